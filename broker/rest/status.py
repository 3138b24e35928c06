"""Channel status (GET /channels/{name}): ChannelDetails with occupancy.

Occupancy (see `broker.realtime.occupancy`) is this process's view, as the realtime side has it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from broker.realtime.occupancy import occupancy
from broker.rest.requests import authenticate, require
from broker.rest.wire import respond


def channel_details(request: HttpRequest, channel: str) -> HttpResponse:
    require(authenticate(request), channel, "channel-metadata")
    metrics = occupancy(channel)
    active = metrics["connections"] > 0 or metrics["presenceMembers"] > 0
    details = {
        "channelId": channel,
        "name": channel,
        "status": {"isActive": active, "occupancy": {"metrics": metrics}},
    }
    return respond(request, details)
