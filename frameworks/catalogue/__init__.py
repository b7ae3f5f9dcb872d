"""Qualification frameworks, credit systems, policies and where achievement versions sit."""
