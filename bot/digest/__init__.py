"""The weekly digest, the overview on demand and the export for the steering group (docs/digest.md)."""
