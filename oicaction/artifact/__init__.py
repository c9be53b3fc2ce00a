"""What lands in the artifact folder: its layout, staging, the server export, plans."""
