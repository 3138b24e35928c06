"""The ASGI application of a standalone broker process: only Ably's REST routes and the WebSocket.

In a team deployment the web processes point ABLY_ENDPOINT at one broker process, so they mount
no broker routes themselves; this process serves nothing but the broker, whatever that setting says.
"""

from __future__ import annotations

from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.core.asgi import get_asgi_application

BROKER_URLCONF = "broker.standalone_urls"


def broker_application() -> ProtocolTypeRouter:
    # Set before the first request: Django resolves every HTTP request against ROOT_URLCONF.
    settings.ROOT_URLCONF = BROKER_URLCONF
    http = get_asgi_application()
    from broker.routing import websocket_urlpatterns

    return ProtocolTypeRouter({"http": http, "websocket": URLRouter(websocket_urlpatterns)})
