"""Privacy helpers shared by the features: personal-data detection (pii)."""
