"""Badges a learner imports from other issuers, verified and re-checked."""
