"""Ably REST routes of the embedded broker (mounted only while no external Ably is configured).

Channel names and serials are percent-encoded by the SDKs (a channel may contain "/", which Django
decodes before routing), so the patterns only select the endpoint; views read the segments from
the raw path. Names are matched by a class that includes newlines (not `.`): a decoded name may
hold one, and such a request must still reach a view (and get an Ably error), not an HTML 404.
"""

from django.urls import path, re_path

from broker.rest import channels, sandbox, service, tokens

urlpatterns = [
    path("time", service.server_time, name="broker-time"),
    path("is-the-internet-up.txt", service.internet_up, name="broker-internet-up"),
    re_path(r"^keys/(?P<key_name>[^/]+)/requestToken$", tokens.request_token, name="broker-request-token"),
    re_path(
        r"^channels/[\s\S]+/messages/[^/]+/versions$",
        channels.message_versions,
        name="broker-message-versions",
    ),
    re_path(r"^channels/[\s\S]+/messages/[^/]+$", channels.channel_message, name="broker-message"),
    re_path(r"^channels/[\s\S]+/messages$", channels.channel_messages, name="broker-messages"),
    re_path(r"^(?:channels|keys|push|stats)(?:/[\s\S]*)?$", service.unsupported, name="broker-unsupported"),
    path("apps", sandbox.create_app, name="broker-sandbox-apps"),
    re_path(r"^apps/[^/]+$", sandbox.delete_app, name="broker-sandbox-app"),
]
