"""ASGI entry point: HTTP (Django + static files) and, when embedded, the broker's WebSocket.

Daphne does not run Django's system checks, so they run here: a misconfigured deployment
refuses to start with the checks' messages instead of failing on the first request.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.agent.consumer import AgentConsumer  # noqa: E402
from chat.agent.embedded import StartAgentWorker  # noqa: E402
from chat.runs.jobs import AGENT_CHANNEL  # noqa: E402
from project.startup_checks import fail_on_check_errors  # noqa: E402

fail_on_check_errors()

# "channel": what `manage.py runworker agent` serves (the agent worker, scaled out with Redis).
routes: dict = {
    "http": django_asgi_app,
    "channel": ChannelNameRouter({AGENT_CHANNEL: AgentConsumer.as_asgi()}),
}
if settings.EMBEDDED_BROKER:
    from broker.routing import websocket_urlpatterns

    routes["websocket"] = URLRouter(websocket_urlpatterns)

application = StartAgentWorker(ProtocolTypeRouter(routes))
