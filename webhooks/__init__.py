"""Webhooks: endpoints an institution registers, signed deliveries (Standard Webhooks)
from the events outbox, and their console pages."""
