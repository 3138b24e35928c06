"""Link headers for paginated results, in the shape both SDKs parse (ably-protocol.md §10).

ably-js re-sends a link's query against the original path, so each link carries every parameter
of the query plus the cursor, and must match `./<word>?<query>` with no raw commas.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

CURSOR_PARAM = "cursor"
TRANSPORT_PARAMS = frozenset({"envelope", CURSOR_PARAM})


def _link(resource: str, params: dict[str, str], rel: str) -> str:
    return f'<./{resource}?{urlencode(params, quote_via=quote)}>; rel="{rel}"'


def link_header(resource: str, query: dict[str, str], next_cursor: str | None) -> str:
    """`first`, `current` and (when there is more) `next` links for a page of `resource`."""
    base = {name: value for name, value in query.items() if name not in TRANSPORT_PARAMS}
    current = {**base, CURSOR_PARAM: query[CURSOR_PARAM]} if query.get(CURSOR_PARAM) else base
    links = [_link(resource, base, "first"), _link(resource, current, "current")]
    if next_cursor is not None:
        links.append(_link(resource, {**base, CURSOR_PARAM: next_cursor}, "next"))
    return ", ".join(links)
