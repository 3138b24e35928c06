"""One factory for the agent's ably-python clients, for the embedded broker and for Ably.

The agent authenticates with Ably JWTs it signs locally with the API key (HS256, `kid` =
key name), so it never sends its key secret and needs no token round trip.

ably-python's realtime transport drops the port from its WebSocket URL (reference Q-P1),
so for an endpoint on a non-default port the realtime client gets `endpoint="host:port"`
(which only its WebSocket uses) and a second, REST-only client reads history.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from ably import AblyRealtime, AblyRest
from ably.types.tokendetails import TokenDetails

AGENT_CLIENT_ID = "agent"
AGENT_CAPABILITY = {"ai:*": ["*"]}
JWT_TTL_SECONDS = 3600


@dataclass(frozen=True)
class AblyTarget:
    """Where the agent connects: empty endpoint means Ably's default cluster."""

    endpoint: str = ""
    port: int = 0
    tls: bool = True

    @property
    def default_port(self) -> bool:
        return self.port == 0 or self.port == (443 if self.tls else 80)


@dataclass
class AblyClients:
    realtime: Any
    rest: Any

    async def close(self) -> None:
        await self.realtime.close()
        if self.rest is not self.realtime:
            await self.rest.close()


def sign_jwt(
    api_key: str, client_id: str | None, capability: dict, ttl_seconds: int = JWT_TTL_SECONDS
) -> str:
    """An Ably JWT signed with the key secret (claims per Ably's token spec)."""
    key_name, secret = api_key.split(":", 1)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iat": now,
        "exp": now + ttl_seconds,
        "x-ably-capability": json.dumps(capability, separators=(",", ":")),
    }
    if client_id is not None:
        claims["x-ably-clientId"] = client_id
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key_name, "typ": "JWT"})


def _auth_callback(api_key: str, client_id: str, grant: dict):
    async def auth_callback(_token_params: dict) -> TokenDetails:
        # TokenDetails rather than the bare JWT: ably-python then knows the token's clientId
        # and expiry, instead of treating the clientId as changed to None.
        now_ms = int(time.time() * 1000)
        return TokenDetails(
            token=sign_jwt(api_key, client_id, grant),
            issued=now_ms,
            expires=now_ms + JWT_TTL_SECONDS * 1000,
            capability=grant,
            client_id=client_id,
        )

    return auth_callback


def _port_options(target: AblyTarget) -> dict[str, Any]:
    if target.default_port:
        return {}
    return {"tls_port": target.port} if target.tls else {"port": target.port}


def build_rest_client(api_key: str, target: AblyTarget, client_id: str, capability: dict) -> AblyRest:
    """A REST-only client (no connection kept open), e.g. to publish one cancel from a web request."""
    endpoint = {"endpoint": target.endpoint} if target.endpoint else {}
    return AblyRest(
        auth_callback=_auth_callback(api_key, client_id, capability),
        client_id=client_id,
        tls=target.tls,
        **endpoint,
        **_port_options(target),
    )


def build_clients(
    api_key: str,
    target: AblyTarget,
    client_id: str = AGENT_CLIENT_ID,
    capability: dict | None = None,
) -> AblyClients:
    grant = capability or AGENT_CAPABILITY
    auth_callback = _auth_callback(api_key, client_id, grant)
    common: dict[str, Any] = {"auth_callback": auth_callback, "client_id": client_id, "tls": target.tls}
    if target.default_port:
        endpoint = {"endpoint": target.endpoint} if target.endpoint else {}
        realtime = AblyRealtime(**common, **endpoint)
        return AblyClients(realtime=realtime, rest=realtime)
    realtime = AblyRealtime(**common, endpoint=f"{target.endpoint}:{target.port}")
    rest = AblyRest(**common, endpoint=target.endpoint, **_port_options(target))
    return AblyClients(realtime=realtime, rest=rest)
