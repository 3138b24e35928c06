"""Ably's REST API as the broker serves it (ably-protocol.md §2, §6, §8-§10)."""
