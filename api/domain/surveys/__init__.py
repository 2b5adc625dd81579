"""The surveys resource."""
