"""People who sign in: their profile and how they are found."""
