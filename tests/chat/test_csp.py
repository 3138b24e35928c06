"""Every response carries a Content-Security-Policy without inline scripts, eval or inline handlers."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chat.csp import HEADER

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    return {
        name: sources
        for name, *sources in (part.split() for part in response[HEADER].split(";") if part.strip())
    }


def test_pages_carry_a_strict_policy(alice_client, conversation):
    response = alice_client.get(reverse("chat:conversation", args=[conversation.id]))
    policy = directives(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["connect-src"] == ["'self'"]  # the embedded broker is this site
    nonce = next(s for s in policy["script-src"] if s.startswith("'nonce-"))[7:-1]
    html = response.content.decode()
    # The only inline scripts: the nonce'd import map and non-executable JSON data.
    for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html):
        assert f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_each_response_gets_its_own_nonce(alice_client):
    first = directives(alice_client.get(reverse("chat:home")))["script-src"]
    second = directives(alice_client.get(reverse("chat:home")))["script-src"]
    assert first != second


def test_an_external_ably_endpoint_is_allowed_to_connect(alice_client, settings):
    settings.ABLY_ENDPOINT = "ably.example.org"
    settings.ABLY_TLS = True
    policy = directives(alice_client.get(reverse("chat:home")))
    assert "wss://ably.example.org" in policy["connect-src"]
    assert "https://ably.example.org" in policy["connect-src"]
