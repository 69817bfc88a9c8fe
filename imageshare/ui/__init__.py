"""The Reflex user interface: pages, their state and shared components."""
