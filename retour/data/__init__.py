"""Data files bundled with the package (the demo register)."""
