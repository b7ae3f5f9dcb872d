"""View counting off the request path (``services``): views buffered in Redis and flushed
into ``ViewEvent`` rows in batches."""
