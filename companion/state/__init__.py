"""Durable state: story progress and the parents' journal, in SQLite."""
