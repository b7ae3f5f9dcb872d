"""Doors for the institution's systems: the OAuth 2.0 authorisation server (clients,
scopes per action and issuer), API callers, and the REST API v1."""
