"""What every broker REST view shares: CORS, preflights, CSRF exemption and Ably error responses.

Browsers call the broker cross-origin with an Authorization header, which makes ably-js send
credentials; the answer must then name the exact Origin and expose Ably's headers (Q-J12). The
broker authenticates by header, never by cookie, so neither Django's CSRF check nor its login
requirement (LoginRequiredMiddleware) applies.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from broker.errors import AblyError, ErrorCode
from broker.rest.wire import respond_error

logger = logging.getLogger(__name__)

ALLOWED_METHODS = "GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS"
GET, HEAD = "GET", "HEAD"
DEFAULT_ALLOWED_HEADERS = "authorization, content-type, accept, x-ably-version, ably-agent, x-ably-clientid"
EXPOSED_HEADERS = "Link, X-Ably-ErrorCode, X-Ably-ErrorMessage, X-Ably-Serverid"
PREFLIGHT_MAX_AGE_SECONDS = "86400"

View = Callable[..., HttpResponse]


def add_cors_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response["Vary"] = "Origin"
    return response


def _preflight(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", DEFAULT_ALLOWED_HEADERS
    )
    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_SECONDS
    return response


def ably_endpoint(*methods: str) -> Callable[[View], View]:
    """Wrap a view so it answers only `methods` (405 otherwise) and renders AblyError the Ably way.

    HEAD is answered wherever GET is, as by any HTTP server: the GET's status and headers, no body.
    """
    allowed = frozenset(methods) | ({HEAD} if GET in methods else frozenset())

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "OPTIONS":
                return add_cors_headers(request, _preflight(request))
            try:
                if request.method not in allowed:
                    raise AblyError(ErrorCode.METHOD_NOT_ALLOWED, 405, f"Method {request.method} not allowed")
                response = view(request, *args, **kwargs)
            except AblyError as error:
                response = respond_error(request, error)
            except Exception:
                logger.exception("Broker REST request failed: %s %s", request.method, request.path)
                response = respond_error(request, AblyError(ErrorCode.INTERNAL, 500, "Internal broker error"))
            if request.method == HEAD:
                response["Content-Length"] = str(len(response.content))
                response.content = b""
            return add_cors_headers(request, response)

        return login_not_required(csrf_exempt(wrapper))

    return decorate
