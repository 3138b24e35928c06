"""Official SDK clients pointed at a live test server, configured the way a server-side app would.

ably-python refuses Basic auth over plain HTTP (Q-P8), so REST clients sign TokenRequests with the
key locally (`use_token_auth`) and the broker exchanges them for tokens.
"""

from __future__ import annotations

import base64
import uuid

from ably import AblyRest

from tests.support.live_server import HOST, LiveServer


def rest_client(server: LiveServer, *, key: str | None = None, **options) -> AblyRest:
    """An AblyRest on the test server; msgpack unless `use_binary_protocol=False` is passed."""
    if not options.keys() & {"auth_callback", "token", "token_details"}:
        options.update(key=key or server.api_key, use_token_auth=True)
    return AblyRest(endpoint=HOST, port=server.port, tls=False, **options)


def fresh_channel(prefix: str) -> str:
    """A channel name no other test uses (the live server is shared by the whole session)."""
    return f"{prefix}:{uuid.uuid4().hex}"


def basic_auth(key: str) -> dict[str, str]:
    """Authorization header for raw HTTP with an API key (what ably-python refuses over plain HTTP)."""
    return {"Authorization": f"Basic {base64.b64encode(key.encode()).decode()}"}


def bearer_auth(token: str) -> dict[str, str]:
    """Authorization header for raw HTTP with a token, base64-encoded as both SDKs send it."""
    return {"Authorization": f"Bearer {base64.b64encode(token.encode()).decode()}"}
