"""The responses resource."""
