"""Broker admin: making and revoking keys, revoking tokens."""

from __future__ import annotations

import pytest
from django.urls import reverse

from broker.auth import authenticate_rest
from broker.auth.keys import find_key
from broker.auth.token_requests import exchange_token_request
from broker.errors import AblyError, ErrorCode
from broker.models import ApiKey, IssuedToken
from tests.conftest import client_for
from tests.support.ably_clients import basic_auth

pytestmark = pytest.mark.django_db


def test_an_admin_made_key_gets_a_generated_secret_and_works(superuser):
    response = client_for(superuser).post(
        reverse("admin:broker_apikey_add"),
        {"app_id": "team", "label": "worker", "capability": '{"jobs:*": ["publish"]}'},
    )
    key = ApiKey.objects.get(label="worker")
    credentials = authenticate_rest(basic_auth(f"{key.key_name}:{key.secret}")["Authorization"])
    assert response.status_code == 302
    assert len(key.secret) >= 32 and "." not in key.secret and ":" not in key.secret
    assert credentials.capability.allows("jobs:1", "publish")
    assert not credentials.capability.allows("chat:1", "publish")


def test_an_invalid_capability_is_a_form_error(superuser):
    response = client_for(superuser).post(
        reverse("admin:broker_apikey_add"), {"app_id": "team", "label": "bad", "capability": '{"x": ["fly"]}'}
    )
    assert response.status_code == 200
    assert "unknown operation" in response.content.decode()
    assert not ApiKey.objects.filter(label="bad").exists()


def test_revoking_a_key_ends_its_tokens(superuser):
    key = ApiKey.objects.create(app_id="team", key_id="k1", secret="s" * 40, capability='{"*":["*"]}')
    details = exchange_token_request(
        key.key_name,
        {"keyName": key.key_name},
        caller=authenticate_rest(basic_auth(f"{key.key_name}:{key.secret}")["Authorization"]),
    )
    client_for(superuser).post(
        reverse("admin:broker_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}
    )
    with pytest.raises(AblyError) as raised:
        authenticate_rest(f"Bearer {details['token']}")
    assert find_key(key.key_name) is None
    assert raised.value.code == ErrorCode.TOKEN_REVOKED


def test_revoking_a_token_refuses_it_with_40141(superuser, settings):
    root_key = settings.ABLY_API_KEY
    key_name = root_key.split(":")[0]
    details = exchange_token_request(
        key_name, {"clientId": "alice"}, caller=authenticate_rest(basic_auth(root_key)["Authorization"])
    )
    token = IssuedToken.objects.get(client_id="alice")
    client_for(superuser).post(
        reverse("admin:broker_issuedtoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    with pytest.raises(AblyError) as raised:
        authenticate_rest(f"Bearer {details['token']}")
    assert raised.value.code == ErrorCode.TOKEN_REVOKED


def test_message_browser_shows_messages_read_only(superuser, settings):
    from broker import store
    from broker.auth import authenticate_realtime
    from broker.models import StoredMessage

    root = authenticate_realtime(key=settings.ABLY_API_KEY, access_token=None)
    store.publish(
        "browse:me",
        [{"name": "greeting", "data": "hello there"}],
        credentials=root,
        client_id=None,
        connection_id="c",
    )
    client = client_for(superuser)
    listing = client.get(reverse("admin:broker_storedmessage_changelist"), {"q": "browse:me"})
    assert listing.status_code == 200
    assert b"hello there" in listing.content and b"greeting" in listing.content
    message = StoredMessage.objects.get(channel__name="browse:me")
    page = client.get(reverse("admin:broker_storedmessage_change", args=[message.pk]))
    assert page.status_code == 200 and b"hello there" in page.content
    assert b'name="_save"' not in page.content
    assert client.get(reverse("admin:broker_storedmessage_add")).status_code == 403
