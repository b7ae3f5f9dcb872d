"""Benchmarks: each prints JSON lines (see README)."""
