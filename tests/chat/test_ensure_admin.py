from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_first_admin_is_created_once_with_a_working_printed_password(django_user_model):
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    password = re.search(r"password: (\S+)", out.getvalue()).group(1)
    user = authenticate(username="admin", password=password)
    assert user is not None and user.is_superuser

    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert "password" not in again.getvalue()
    assert django_user_model.objects.count() == 1


def test_the_printed_login_address_is_where_the_app_is_served():
    out = StringIO()
    call_command("ensure_admin", url="http://127.0.0.1:8123/", stdout=out)
    assert "Log in at http://127.0.0.1:8123/ " in out.getvalue()
    assert ":8000" not in out.getvalue()
