"""Competency frameworks: imported CASE and ESCO files and institutions' own frameworks."""
