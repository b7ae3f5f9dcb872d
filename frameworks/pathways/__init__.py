"""Stackable pathways: requirement trees, learners' progress and signed completions."""
