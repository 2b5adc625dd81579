"""The audit log: who read which report (or personal-data export) of a tenant, and when."""
