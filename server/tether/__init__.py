"""Tether: a learning coding agent for editors."""

__version__ = "0.1.0"
