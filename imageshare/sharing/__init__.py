"""Short share links: /s/{code} for an image."""
