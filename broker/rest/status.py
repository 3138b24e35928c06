"""Channel status (GET /channels/{name}): ChannelDetails with occupancy.

Occupancy counts this process's live attachments by the modes they were granted, and the members
of the presence roster: the same process-local view the realtime side has.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from broker.realtime.presence import roster
from broker.realtime.registry import registry
from broker.rest.requests import authenticate, require
from broker.rest.wire import respond
from broker.wire import Flag

# Occupancy metric -> the mode an attachment needs to count toward it (None: every attachment).
MODE_METRICS: dict[str, Flag | None] = {
    "connections": None,
    "publishers": Flag.PUBLISH,
    "subscribers": Flag.SUBSCRIBE,
    "presenceConnections": Flag.PRESENCE,
    "presenceSubscribers": Flag.PRESENCE_SUBSCRIBE,
    "objectPublishers": Flag.OBJECT_PUBLISH,
    "objectSubscribers": Flag.OBJECT_SUBSCRIBE,
}


def occupancy(channel: str) -> dict[str, int]:
    modes = registry.attached_modes(channel)
    metrics = {
        metric: sum(1 for granted in modes if mode is None or granted & mode)
        for metric, mode in MODE_METRICS.items()
    }
    metrics["presenceMembers"] = len(roster.members(channel))
    return metrics


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
