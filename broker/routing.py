"""Ably realtime WebSocket routes of the embedded broker."""

websocket_urlpatterns: list = []
