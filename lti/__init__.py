"""Badges from the course: Insignia as an LTI 1.3 Advantage tool (pylti1p3next)."""
