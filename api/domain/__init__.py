"""One package per resource: controllers (routes), services (logic), schemas (bodies)."""
