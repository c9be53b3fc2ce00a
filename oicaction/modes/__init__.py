"""What a run does with an artifact: build makes one, deploy puts one into OIC."""
