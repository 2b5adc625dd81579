"""The instruments resource."""
