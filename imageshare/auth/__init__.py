"""Who is asking: web sessions, bearer tokens and the Viewer passed to every service."""
