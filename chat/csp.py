"""The Content-Security-Policy header, set on every response (Django 5.2 has no built-in CSP).

Pages load scripts only from this site, plus the one inline script a nonce allows: the import map (an
import map is an inline script to CSP). No page uses inline event handlers or eval, and htmx is told so
(`allowEval`, `includeIndicatorStyles` off in base.html). `style-src-attr 'unsafe-inline'` is there for
the `text-align` a markdown table cell may carry (the sanitiser allows nothing else in `style`).
connect-src allows this site (the embedded broker speaks WebSocket on the same origin) and the configured
external Ably endpoint, if any (`ably_connect_sources`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

HEADER = "Content-Security-Policy"
# Ably's own hosts, for ABLY_ENDPOINT given as a routing-policy name (e.g. "main") instead of a host.
ABLY_ROUTED_HOSTS = ("*.ably.net", "*.ably-realtime.com", "*.ably.io")


def ably_connect_sources() -> list[str]:
    """Where ably-js may connect for the configured ABLY_ENDPOINT (nothing extra for the embedded broker)."""
    endpoint = settings.ABLY_ENDPOINT.strip()
    if not endpoint:
        return []
    secure = settings.ABLY_TLS
    hosts = [endpoint] if "." in endpoint or endpoint == "localhost" else list(ABLY_ROUTED_HOSTS)
    port = f":{settings.ABLY_PORT}" if settings.ABLY_PORT and "." in endpoint else ""
    schemes = ("https", "wss") if secure else ("http", "ws")
    return [f"{scheme}://{host}{port}" for host in hosts for scheme in schemes]


def policy(nonce: str) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", f"'nonce-{nonce}'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", *ably_connect_sources()],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Gives each request a nonce (`request.csp_nonce`, for templates) and each response the policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = SimpleLazyObject(lambda: nonce)
        response = self.get_response(request)
        response.setdefault(HEADER, policy(nonce))
        return response
