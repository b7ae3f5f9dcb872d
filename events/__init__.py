"""The transactional outbox: what happened to awards, written in the same transaction as
the change, read by webhook delivery."""
