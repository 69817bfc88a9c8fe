"""Images: their rows, renditions, tags, processing and storage."""
