"""Provider error codes and the redaction that keeps API keys out of error messages."""

from __future__ import annotations

import pytest

from chat.agent.providers.errors import (
    MAX_DETAIL_LENGTH,
    UPSTREAM_AUTH_REFUSED,
    UPSTREAM_FAILURE,
    UPSTREAM_RATE_LIMITED,
    UPSTREAM_REQUEST_REJECTED,
    UPSTREAM_TIMEOUT,
    ProviderError,
    code_for_status,
    redact,
    upstream_status_error,
)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, UPSTREAM_REQUEST_REJECTED),
        (401, UPSTREAM_AUTH_REFUSED),
        (403, UPSTREAM_AUTH_REFUSED),
        (408, UPSTREAM_TIMEOUT),
        (413, UPSTREAM_REQUEST_REJECTED),
        (429, UPSTREAM_RATE_LIMITED),
        (500, UPSTREAM_FAILURE),
        (504, UPSTREAM_TIMEOUT),
        (529, UPSTREAM_FAILURE),
    ],
)
def test_status_maps_to_code(status, code):
    assert code_for_status(status) == code


def test_error_carries_ably_style_code_and_status():
    error = ProviderError(UPSTREAM_RATE_LIMITED, "slow down")

    assert (error.code, error.status_code, str(error)) == (42910, 429, "slow down")


def test_redact_removes_the_configured_key_and_key_shaped_tokens():
    text = "key my-local-secret rejected; also saw sk-proj-AbC123xyz789 and Bearer abc.def"

    cleaned = redact(text, ("my-local-secret",))

    assert "my-local-secret" not in cleaned
    assert "sk-proj-AbC123xyz789" not in cleaned
    assert "abc.def" not in cleaned
    assert cleaned.startswith("key [redacted] rejected")


def test_redact_shortens_long_details_to_one_line():
    cleaned = redact("line one\nline two " + "x" * 1000)

    assert len(cleaned) == MAX_DETAIL_LENGTH
    assert cleaned.startswith("line one line two x")
    assert cleaned.endswith("…")


def test_credential_errors_never_quote_the_upstream_detail():
    error = upstream_status_error("The service", 401, "Incorrect API key provided: abcd****wxyz", ("k",))

    assert "abcd" not in error.message
    assert "LLM_API_KEY" in error.message
