"""Palmyra Chat: the app's components. See README.md for how they fit together."""

__version__ = "1.0.0"
