"""Comments people leave on images."""
