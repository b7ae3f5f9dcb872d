"""Bulk issuing from a CSV or XLSX upload: dry run, issuing in chunks, progress, results."""
