"""What a run does: build one source, a batch, discover sources for a matrix, pull from OIC."""
