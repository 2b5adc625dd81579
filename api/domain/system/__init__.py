"""The system resource."""
