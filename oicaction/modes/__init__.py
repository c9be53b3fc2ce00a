"""What a run does: build one source, a batch, or discover sources for a matrix."""
