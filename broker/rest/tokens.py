"""POST /keys/{keyName}/requestToken: a TokenRequest in, TokenDetails out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from broker.auth import exchange_token_request
from broker.auth.authenticate import authenticate_rest
from broker.rest.endpoint import ably_endpoint
from broker.rest.requests import raw_path_segment
from broker.rest.wire import read_body, respond

KEY_NAME_SEGMENT = 1  # /keys/<keyName>/requestToken


@ably_endpoint("POST")
def request_token(request: HttpRequest, key_name: str) -> HttpResponse:
    # Signed requests carry no Authorization header; an unsigned one needs Basic auth with the key.
    header = request.headers.get("Authorization")
    caller = authenticate_rest(header) if header else None
    details = exchange_token_request(
        raw_path_segment(request, KEY_NAME_SEGMENT), read_body(request), caller=caller
    )
    return respond(request, details)
