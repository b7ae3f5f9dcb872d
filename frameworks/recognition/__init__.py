"""Recognition of prior learning: cases, verified evidence and append-only decisions."""
