"""Defining micro-credentials: create, edit, preview and publish achievement versions.

The records (``Achievement``, ``AchievementVersion``) live in ``badges.models``; this app holds
the authoring workflow, which needs the frameworks app (a new draft keeps its placement, and
publishing checks the institution's micro-credential policies), so it sits above it.
"""
