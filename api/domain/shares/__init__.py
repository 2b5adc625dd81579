"""Share links: signed, expiring, read-only links to one report."""
