"""The scores resource."""
