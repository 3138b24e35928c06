"""Ably REST routes of the embedded broker (mounted only while no external Ably is configured).

Channel names and serials are percent-encoded by the SDKs (a channel may contain "/", which Django
decodes before routing), so the patterns only select the endpoint; views read the segments from
the raw path.

The embedded broker shares the site's URL space, so it claims only Ably's own top-level names:
anything unknown under them is Ably's JSON 40400, while an unknown site path stays the site's HTML
404 (SDK requests elsewhere are handled by `broker.not_found`). The standalone broker serves nothing
else, so `broker.standalone_urls` adds a catch-all for every other path.

Names are matched by a class that includes newlines (not `.`): a decoded name may hold one, and
such a request must still reach a view (and get an Ably error), not an HTML 404.
"""

from django.urls import path, re_path

from broker.rest import (
    annotations,
    batch,
    channel_resources,
    channels,
    revoke,
    sandbox,
    service,
    stats,
    tokens,
)

# Top-level names of Ably's REST API: nothing under them may fall through to the site.
ABLY_NAMESPACES = r"channels|keys|push|stats|apps|messages|presence|time|revokeTokens"

urlpatterns = [
    path("time", service.server_time, name="broker-time"),
    path("is-the-internet-up.txt", service.internet_up, name="broker-internet-up"),
    re_path(r"^keys/(?P<key_name>[^/]+)/requestToken$", tokens.request_token, name="broker-request-token"),
    re_path(r"^keys/[^/]+/revokeTokens$", revoke.revoke_tokens, name="broker-revoke-tokens"),
    re_path(
        r"^channels/[\s\S]+/messages/[^/]+/versions$",
        channels.message_versions,
        name="broker-message-versions",
    ),
    re_path(
        r"^channels/[\s\S]+/messages/[^/]+/annotations$",
        annotations.message_annotations,
        name="broker-annotations",
    ),
    re_path(r"^channels/[\s\S]+/messages/[^/]+$", channels.channel_message, name="broker-message"),
    re_path(r"^channels/[\s\S]+/messages$", channels.channel_messages, name="broker-messages"),
    re_path(r"^channels/[\s\S]+$", channel_resources.channel_resource, name="broker-channel-resource"),
    path("messages", batch.batch_publish, name="broker-batch-publish"),
    path("presence", batch.batch_presence, name="broker-batch-presence"),
    path("stats", stats.stats, name="broker-stats"),
    path("apps", sandbox.create_app, name="broker-sandbox-apps"),
    re_path(r"^apps/[^/]+$", sandbox.delete_app, name="broker-sandbox-app"),
    re_path(rf"^(?:{ABLY_NAMESPACES})(?:/[\s\S]*)?$", service.unsupported, name="broker-unsupported"),
]
