"""`/ably/token`: a TokenRequest signed with the configured key, for exactly one channel."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

TOKEN_URL = reverse("chat:ably-token")


def expected_mac(token_request: dict, secret: str) -> str:
    """The mac as the Ably token-request spec defines it, computed independently of ably-python."""
    fields = ["keyName", "ttl", "capability", "clientId", "timestamp", "nonce"]
    text = "".join(f"{token_request.get(name) or ''}\n" for name in fields)
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_token_request_is_signed_and_scoped(alice_client, alice, conversation):
    before_ms = int(time.time() * 1000)
    response = alice_client.get(TOKEN_URL, {"conversation": str(conversation.id)})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    token_request = response.json()

    key_name, secret = settings.ABLY_API_KEY.split(":")
    assert token_request["keyName"] == key_name
    assert token_request["mac"] == expected_mac(token_request, secret)
    assert json.loads(token_request["capability"]) == {
        f"ai:{conversation.id}": ["history", "publish", "subscribe"]
    }
    assert token_request["clientId"] == f"user:{alice.pk}"
    assert token_request["ttl"] == settings.ABLY_TOKEN_TTL_SECONDS * 1000
    assert 60_000 <= token_request["ttl"] <= 24 * 3600 * 1000
    assert before_ms - 1000 <= token_request["timestamp"] <= int(time.time() * 1000) + 1000
    assert len(token_request["nonce"]) >= 16
    assert secret not in response.content.decode()


def test_tampered_capability_no_longer_verifies(alice_client, conversation):
    token_request = alice_client.get(TOKEN_URL, {"conversation": str(conversation.id)}).json()
    secret = settings.ABLY_API_KEY.split(":")[1]
    widened = {**token_request, "capability": json.dumps({"*": ["*"]})}
    assert widened["mac"] != expected_mac(widened, secret)


def test_each_request_has_a_fresh_nonce(alice_client, conversation):
    first = alice_client.get(TOKEN_URL, {"conversation": str(conversation.id)}).json()
    second = alice_client.get(TOKEN_URL, {"conversation": str(conversation.id)}).json()
    assert first["nonce"] != second["nonce"]


def test_logged_out_is_401_json(client, conversation):
    response = client.get(TOKEN_URL, {"conversation": str(conversation.id)})
    assert response.status_code == 401
    assert response.json()["error"]["statusCode"] == 401


@pytest.mark.parametrize("params", [{}, {"conversation": ""}, {"conversation": "not-a-uuid"}])
def test_malformed_request_is_400(alice_client, params):
    response = alice_client.get(TOKEN_URL, params)
    assert response.status_code == 400
    assert "conversation" in response.json()["error"]["message"]


def test_other_users_conversation_is_404(bob_client, conversation):
    response = bob_client.get(TOKEN_URL, {"conversation": str(conversation.id)})
    assert response.status_code == 404
    assert "mac" not in response.json()


def test_post_is_refused(alice_client, conversation):
    assert alice_client.post(TOKEN_URL, {"conversation": str(conversation.id)}).status_code == 405
