"""Error pages look like the app and offer a way back; no page says "DEBUG=True"."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def assert_app_page(html: str) -> None:
    assert "Durable AI Chat" in html
    assert "/static/chat/app" in html  # the app's stylesheet
    assert 'href="/"' in html  # a way back
    assert "DEBUG" not in html


def test_404_is_styled_with_a_way_back(alice_client):
    response = alice_client.get(reverse("chat:conversation", args=[uuid.uuid4()]))
    assert response.status_code == 404
    assert_app_page(response.content.decode())
    assert "There is nothing here" in response.content.decode()


def test_csrf_failure_explains_and_offers_to_log_in_again(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("chat:new"))
    assert response.status_code == 403
    html = response.content.decode()
    assert_app_page(html)
    assert "That form had expired" in html
    assert reverse("login") in html


def test_500_is_styled(alice):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert_app_page(response.content.decode())
