"""Issuer API tokens: the console page, the writes, and DRF authentication by token."""
