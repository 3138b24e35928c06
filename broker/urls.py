"""Ably REST routes of the embedded broker (mounted only while no external Ably is configured)."""

urlpatterns: list = []
