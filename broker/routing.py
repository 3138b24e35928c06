"""Ably realtime WebSocket routes of the embedded broker.

Every path is accepted: ably-js connects to `/`, ably-python's URL has no path (the websockets
library asks for `/`), and ably-js's connectivity probe opens `wsConnectivityCheckUrl` (e.g. `/ws-up`),
which only needs the upgrade to succeed (it gets the same answer as any credential-less connect).
"""

from django.urls import re_path

from broker.realtime.consumer import RealtimeConsumer

websocket_urlpatterns = [re_path(r"^.*$", RealtimeConsumer.as_asgi())]
