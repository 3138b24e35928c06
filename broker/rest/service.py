"""Small service endpoints: server time and the connectivity check."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.rest.endpoint import ably_endpoint
from broker.rest.wire import respond

INTERNET_UP_BODY = "yes\n"  # ably-js's fetch path requires exactly "yes"


@ably_endpoint("GET")
def server_time(request: HttpRequest) -> HttpResponse:
    return respond(request, [now_ms()])


@ably_endpoint("GET")
def internet_up(request: HttpRequest) -> HttpResponse:
    return HttpResponse(INTERNET_UP_BODY, content_type="text/plain")


@ably_endpoint("GET", "POST", "PATCH", "PUT", "DELETE")
def unsupported(request: HttpRequest) -> HttpResponse:
    """Ably paths this broker does not serve (push, unknown resources): an Ably error, not an HTML page."""
    raise AblyError(ErrorCode.NOT_FOUND, 404, f"{request.path} is not supported by this broker")
