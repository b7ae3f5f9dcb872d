"""Equivalence statements for external credentials, and their public register."""
