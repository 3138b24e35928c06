"""Ably's JSON 40400 for SDK requests to paths nobody serves, in a process that also serves the site.

The embedded broker shares the site's URL space, so it cannot claim every unknown path: a person
mistyping a page must still get the site's HTML 404. The broker's own namespaces (`/channels/...`,
`/keys/...`, ...) end in a catch-all in `broker.urls`; beyond those, a request that no URL matched is
answered the Ably way only when it comes from an Ably SDK, which announces itself with
`X-Ably-Version` / `Ably-Agent` on every request.
"""

from __future__ import annotations

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from broker.errors import AblyError, ErrorCode
from broker.rest.endpoint import add_cors_headers
from broker.rest.wire import respond_error

SDK_HEADERS = ("X-Ably-Version", "Ably-Agent")
NOT_FOUND = 404


def ably_not_found(request: HttpRequest) -> HttpResponse:
    error = AblyError(ErrorCode.NOT_FOUND, NOT_FOUND, f"No such resource: {request.path}")
    return add_cors_headers(request, respond_error(request, error))


def is_sdk_request(request: HttpRequest) -> bool:
    return any(request.headers.get(name) for name in SDK_HEADERS)


def _answer(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    unmatched = getattr(request, "resolver_match", None) is None
    if response.status_code == NOT_FOUND and unmatched and is_sdk_request(request):
        return ably_not_found(request)
    return response


@sync_and_async_middleware
def ably_not_found_middleware(get_response: Callable) -> Callable:
    """Turn the site's 404 for an unmatched path into Ably's 40400 when an Ably SDK asked.

    Sync and async capable, so it never forces the site's async views through a thread.
    """
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            return _answer(request, await get_response(request))

        return markcoroutinefunction(middleware)

    def sync_middleware(request: HttpRequest) -> HttpResponse:
        return _answer(request, get_response(request))

    return sync_middleware
