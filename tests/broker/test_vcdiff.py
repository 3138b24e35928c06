"""The VCDIFF encoder, checked by decoding with @ably/vcdiff-decoder (the decoder ably-js uses)."""

from __future__ import annotations

import base64
import json
import random
import subprocess

from broker.vcdiff import encode
from tests.support.node_scripts import BASE_DIR, NODE_TIMEOUT_SECONDS, SCRIPT_DIR

_rng = random.Random(11)
_BLOB = bytes(_rng.randrange(256) for _ in range(5000))
CASES = [
    (b"", b"hello"),
    (b"hello world", b"hello world"),
    (b"hello world", b"hello there world"),
    (b"The quick brown fox jumps over the lazy dog", b"The quick brown cat jumps over the lazy dog!"),
    ("Grüße, 世界 ✓".encode(), "Grüße, 世界 ✓✓ again".encode()),
    (b"abc", b""),
    (b"aaaaaaaaaaaaaaaaaaaaaaaa", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    (_BLOB, _BLOB[:2000] + b"inserted" + _BLOB[2100:] + _BLOB[:300]),
    (_BLOB[:200], bytes(range(256)) * 300),
]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_the_ably_js_decoder_reproduces_every_target():
    payload = [{"source": _b64(s), "delta": _b64(encode(s, t))} for s, t in CASES]
    completed = subprocess.run(
        ["node", str(SCRIPT_DIR / "vcdiff_roundtrip.mjs"), json.dumps(payload)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=True,
    )
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    assert results == [{"target": _b64(t)} for _, t in CASES]


def test_a_small_edit_of_a_long_text_is_a_small_delta():
    source = ("All work and no play makes Jack a dull boy. " * 40).encode()
    target = source[:900] + b"EDIT" + source[900:]
    assert len(encode(source, target)) < 40
