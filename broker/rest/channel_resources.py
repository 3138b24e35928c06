"""GET /channels/{name}[/presence[/history]]: routed on the raw path, so a name may contain "/".

Django decodes %2F before URL resolution, so a pattern cannot tell the channel "a/presence" from
the presence of "a". The percent-encoded raw path can: the SDKs encode the name as one segment.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from broker.channel_names import check_channel_name
from broker.errors import AblyError, ErrorCode
from broker.rest import presence, status
from broker.rest.endpoint import ably_endpoint
from broker.rest.requests import raw_path_segment, raw_path_segments

CHANNEL_SEGMENT = 1
ROUTES = {
    (): status.channel_details,
    ("presence",): presence.members,
    ("presence", "history"): presence.history,
}


def not_found(request: HttpRequest) -> AblyError:
    return AblyError(ErrorCode.NOT_FOUND, 404, f"No such resource: {request.path}")


@ably_endpoint("GET")
def channel_resource(request: HttpRequest) -> HttpResponse:
    view = ROUTES.get(tuple(raw_path_segments(request)[CHANNEL_SEGMENT + 1 :]))
    if view is None:
        raise not_found(request)
    return view(request, check_channel_name(raw_path_segment(request, CHANNEL_SEGMENT)))
