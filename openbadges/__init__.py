"""Insignia's standards core: Open Badges 3.0, Data Integrity, JSON-LD (no Django)."""
