"""Revoking, suspending and reinstating awards."""
