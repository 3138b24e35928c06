"""The Ably clientId of each participant.

The broker verifies clientIds (they are baked into signed tokens), so they are the identity
that cancel authorisation and message ownership are judged by. A user's clientId must never
change: it is derived from the primary key, not from the editable username.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

USER_CLIENT_ID_PREFIX = "user:"


def client_id_for(user: AbstractBaseUser) -> str:
    return f"{USER_CLIENT_ID_PREFIX}{user.pk}"


def user_pk_from_client_id(client_id: str | None) -> str | None:
    """The user primary key a clientId names, or None when it is not a user's clientId."""
    if not client_id or not client_id.startswith(USER_CLIENT_ID_PREFIX):
        return None
    return client_id[len(USER_CLIENT_ID_PREFIX) :] or None
