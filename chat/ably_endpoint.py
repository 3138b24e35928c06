"""Where Ably is, for every process: the one place that reads the Ably location settings.

Server-side clients (agent workers, the admin's Stop) use `server_target`; the browser gets
`browser_config`. There is no guessed port: a process that cannot tell where the broker is
raises `AblyLocationUnknown`, which names the setting to add.

- `ABLY_ENDPOINT` set: Ably itself or standalone broker processes (`ABLY_PORT`, `ABLY_TLS`).
- unset: the broker embedded in a web process, reached on loopback at `EMBEDDED_BROKER_HOST`
  and `EMBEDDED_BROKER_PORT`, or (in that web process itself) the port it serves on.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chat.transport.clients import AblyTarget


class AblyLocationUnknown(ImproperlyConfigured):
    """Neither ABLY_ENDPOINT nor EMBEDDED_BROKER_PORT is set, and this process serves no broker."""


def server_target(served_port: int | None = None) -> AblyTarget:
    """Where this process's own Ably clients connect. `served_port`: the port this process serves on."""
    if settings.ABLY_ENDPOINT:
        return AblyTarget(settings.ABLY_ENDPOINT, settings.ABLY_PORT, settings.ABLY_TLS)
    port = settings.EMBEDDED_BROKER_PORT or served_port
    if not port:
        raise AblyLocationUnknown(
            "This process does not know where the Ably broker is: set ABLY_ENDPOINT (with ABLY_PORT and "
            "ABLY_TLS) to the broker's address, or EMBEDDED_BROKER_PORT to the port of the web process "
            "that embeds it."
        )
    return AblyTarget(settings.EMBEDDED_BROKER_HOST, port, tls=False)


def browser_config() -> dict:
    """What `session.js` connects to: the page's own origin, or the configured endpoint."""
    if settings.EMBEDDED_BROKER or settings.ABLY_BROWSER_SAME_ORIGIN:
        return {"embedded": True}
    return {
        "embedded": False,
        "endpoint": settings.ABLY_ENDPOINT,
        "port": settings.ABLY_PORT or None,
        "tls": settings.ABLY_TLS,
    }
