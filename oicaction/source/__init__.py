"""Where an integration comes from: find it, read its metadata, check or pack its archive."""
