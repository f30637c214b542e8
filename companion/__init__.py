"""Luma, an offline voice bedtime companion."""

__version__ = "0.1.0"
