"""Provider failures as Ably-style error codes, so the agent can put them on the wire unchanged.

Codes follow Ably's convention (HTTP status * 100 + detail). They describe what went wrong *upstream*, at the
model service, never the user's request to our site:

=====  ======  ==========================================================================================
code   status  meaning
=====  ======  ==========================================================================================
40000  400     The model service rejected the request as invalid (unknown model, prompt too long, ...).
40300  403     The model service refused our credentials (bad or missing `LLM_API_KEY`, no access).
42910  429     The model service is rate limiting us; retrying later may work.
50000  500     The model service failed, or sent a stream we could not understand or that ended early.
50200  502     The model service could not be reached (connection refused, DNS, TLS).
50410  504     The model service stopped answering for longer than `LLM_TIMEOUT_SECONDS`.
=====  ======  ==========================================================================================

Messages are for people (they may end up in the chat) and never contain the API key: upstream detail is only
quoted after redaction, and never for credential errors, where services tend to echo the key back.
"""

from __future__ import annotations

import re

UPSTREAM_REQUEST_REJECTED = 40000
UPSTREAM_AUTH_REFUSED = 40300
UPSTREAM_RATE_LIMITED = 42910
UPSTREAM_FAILURE = 50000
UPSTREAM_UNREACHABLE = 50200
UPSTREAM_TIMEOUT = 50410

ERROR_CODES = frozenset(
    {
        UPSTREAM_REQUEST_REJECTED,
        UPSTREAM_AUTH_REFUSED,
        UPSTREAM_RATE_LIMITED,
        UPSTREAM_FAILURE,
        UPSTREAM_UNREACHABLE,
        UPSTREAM_TIMEOUT,
    }
)

MAX_DETAIL_LENGTH = 300
REDACTED = "[redacted]"
# Shapes of provider secrets (OpenAI's and Anthropic's "sk-…" keys, bearer tokens) that may appear in upstream
# messages even when they are not our configured key, e.g. a proxy echoing a header.
SECRET_SHAPES = re.compile(r"\bsk-[A-Za-z0-9_\-*.]{8,}|\bBearer\s+\S+", re.IGNORECASE)


class ProviderError(Exception):
    """A stream could not produce its answer; `code` is one of the codes above, `message` is safe to show."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status_code(self) -> int:
        """The HTTP status that goes with `code`, as Ably's ErrorInfo carries both."""
        return self.code // 100

    def __repr__(self) -> str:
        return f"ProviderError({self.code}, {self.message!r})"


def code_for_status(status: int) -> int:
    """The error code for an HTTP error status returned by a model service."""
    if status in (401, 403):
        return UPSTREAM_AUTH_REFUSED
    if status == 429:
        return UPSTREAM_RATE_LIMITED
    if status in (408, 504):
        return UPSTREAM_TIMEOUT
    if 400 <= status < 500:
        return UPSTREAM_REQUEST_REJECTED
    return UPSTREAM_FAILURE


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` without any of `secrets` or anything shaped like an API key, shortened for display."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = SECRET_SHAPES.sub(REDACTED, text)
    text = " ".join(text.split())
    if len(text) > MAX_DETAIL_LENGTH:
        text = text[: MAX_DETAIL_LENGTH - 1] + "…"
    return text


STATUS_SUMMARIES = {
    UPSTREAM_REQUEST_REJECTED: "rejected the request",
    UPSTREAM_RATE_LIMITED: "is rate limiting requests; try again later",
    UPSTREAM_TIMEOUT: "timed out",
    UPSTREAM_FAILURE: "failed",
}


def upstream_status_error(service: str, status: int, detail: str, secrets: tuple[str, ...]) -> ProviderError:
    """The error for an HTTP error answer of `service`, quoting its (redacted) `detail` where that is safe."""
    code = code_for_status(status)
    if code == UPSTREAM_AUTH_REFUSED:
        return ProviderError(code, f"{service} refused the credentials (HTTP {status}); check LLM_API_KEY.")
    summary = STATUS_SUMMARIES[code]
    return ProviderError(code, f"{service} {summary} (HTTP {status}): {redact(detail, secrets)}")
