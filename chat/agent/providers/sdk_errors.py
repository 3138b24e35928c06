"""How failures of the official `openai` and `anthropic` SDKs become `ProviderError`s.

Both SDKs share one exception design (`APIStatusError`, `APITimeoutError`, `APIConnectionError`, `APIError`),
so one translation serves both. Transport errors of `httpx2` (which the SDKs do not always wrap while a
response body is being read) and undecodable stream data are translated too. `GeneratorExit` and
`CancelledError` are not `Exception`s and pass through untouched: aborting is not a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import httpx2

from chat.agent.providers.errors import (
    UPSTREAM_FAILURE,
    UPSTREAM_TIMEOUT,
    UPSTREAM_UNREACHABLE,
    ProviderError,
    redact,
    upstream_status_error,
)


@contextmanager
def translated_errors(sdk: ModuleType, service: str, api_key: str, mid_stream: bool) -> Iterator[None]:
    """Raise `ProviderError` for any failure of `sdk` inside the block.

    `mid_stream` says whether the response had already started, which turns a broken connection from
    "could not be reached" into "dropped the connection mid-answer".
    """
    try:
        yield
    except sdk.APIStatusError as error:
        raise upstream_status_error(service, error.status_code, error.message, (api_key,)) from None
    except (sdk.APITimeoutError, httpx2.TimeoutException):
        raise ProviderError(UPSTREAM_TIMEOUT, f"{service} did not answer in time.") from None
    except (sdk.APIConnectionError, httpx2.RequestError):
        if mid_stream:
            raise ProviderError(UPSTREAM_FAILURE, f"{service} dropped the connection mid-answer.") from None
        raise ProviderError(UPSTREAM_UNREACHABLE, f"{service} could not be reached.") from None
    except sdk.APIError as error:
        raise ProviderError(
            UPSTREAM_FAILURE, f"{service} reported an error: {redact(error.message, (api_key,))}"
        ) from None
    except ValueError:
        raise ProviderError(UPSTREAM_FAILURE, f"{service} sent a stream that is not valid JSON.") from None
