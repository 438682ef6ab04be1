"""Leadwerk's SQLite database backend: Django's, with writers queued in order (see base.py)."""
