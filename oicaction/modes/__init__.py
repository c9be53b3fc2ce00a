"""What a run does: build, batch, discover, deploy, pull."""
