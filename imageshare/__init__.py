"""imageshare: an image-sharing platform (Reflex pages, Strawberry API, one server)."""
