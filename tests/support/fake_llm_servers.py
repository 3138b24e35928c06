"""Local stand-ins for the OpenAI Chat Completions and Anthropic Messages streaming APIs.

They speak HTTP/1.1 (keep-alive, chunked bodies) and server-sent events by hand over `asyncio` streams on
127.0.0.1, in the exact shapes those APIs send (including usage), so the official SDKs talk to them unchanged.
They pace their tokens like a model and record what the real service would observe, above all **when the
client disconnected and how many tokens had been sent by then**: that is how tests and benchmarks prove that
Stop closes the upstream request.

Usage::

    async with FakeOpenAIServer(StreamPlan(tokens=("Hel", "lo"), interval=0.01)) as server:
        provider = OpenAIChatProvider(api_key="sk-test", model="m", base_url=server.base_url)
        ...
        stream = await server.next_stream(timeout=5)   # the RecordedStream of the next request
        await stream.wait_finished(timeout=5)
        assert stream.outcome == "client-disconnected"

API:

- `FakeOpenAIServer(plan=None)`, `FakeAnthropicServer(plan=None)`: async context managers (or `start()` /
  `stop()`). `base_url` is what to configure as `LLM_BASE_URL` (the OpenAI one ends in `/v1`, like OpenAI's).
  `plan` (a `StreamPlan`, assignable at any time) shapes every following answer. `streams` lists a
  `RecordedStream` per request in arrival order; `next_stream(timeout)` waits for the next one.
- `server.log` is one ordered list of what happened, shared by all requests: `("token", i, n)` when the n-th
  token of request i was written, `("disconnect", i, tokens_sent)` when the client went away before the
  answer ended, `("end", i, outcome)` when the server stopped serving request i. `server.mark(label)` appends
  `(label,)`, so a test can place its own actions (e.g. "abort requested") in the same order.
- `RecordedStream`: `index`, `method`, `path`, `headers` (lower-case names), `body` (parsed JSON), `api_key`
  (as the client sent it), `tokens_sent`, `outcome` (`OUTCOMES`), `disconnected` and `finished`
  (`asyncio.Event`s), `wait_disconnected(timeout)`, `wait_finished(timeout)`.
- `unused_port()`: a loopback port with nothing listening, for "connection refused".

Run one standalone for manual runs or benchmarks (Ctrl-C stops it)::

    python -m tests.support.fake_llm_servers openai --port 8901 --tokens 500 --interval 0.02
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

DEFAULT_TOKENS = ("Hello", ",", " world", "!")
MAX_HEAD_BYTES = 65536
OUTCOMES = (
    "completed",
    "stream-error",
    "malformed",
    "dropped",
    "client-disconnected",
    "error-status",
    "not-found",
)
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


@dataclass(frozen=True)
class StreamPlan:
    """How the fake model answers. At most one of the `*_after_tokens` failures applies per answer.

    `interval` is the pause before each token (reasoning tokens included). Holding keeps the response open and
    silent until the client leaves, like a model that is queued (`hold_before_headers`) or thinking
    (`hold_after_tokens`). `error_status` answers with that HTTP status and the API's JSON error body;
    `{api_key}` in `error_message` is replaced by the key the client sent, to test that it never leaks.
    """

    tokens: tuple[str, ...] = DEFAULT_TOKENS
    reasoning: tuple[str, ...] = ()
    interval: float = 0.0
    prompt_tokens: int = 11
    finish: bool = True
    finish_reason: str | None = None
    hold_before_headers: bool = False
    hold_after_tokens: int | None = None
    error_status: int | None = None
    error_message: str = "The fake model service refused this request."
    stream_error_after_tokens: int | None = None
    malformed_after_tokens: int | None = None
    drop_after_tokens: int | None = None

    @property
    def text(self) -> str:
        """The visible answer a complete stream carries."""
        return "".join(self.tokens)

    @property
    def completion_tokens(self) -> int:
        """What the usage report counts as generated."""
        return len(self.tokens) + len(self.reasoning)


@dataclass
class RecordedStream:
    """One request as the server saw it, and how its answer ended."""

    index: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    tokens_sent: int = 0
    outcome: str | None = None
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def api_key(self) -> str:
        """The credential the client presented, as a bearer token or an `x-api-key` header."""
        authorization = self.headers.get("authorization", "")
        return self.headers.get("x-api-key") or authorization.removeprefix("Bearer ")

    async def wait_disconnected(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) until the client went away before the answer ended."""
        await asyncio.wait_for(self.disconnected.wait(), timeout)

    async def wait_finished(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) until the server stopped serving this request."""
        await asyncio.wait_for(self.finished.wait(), timeout)


@dataclass(frozen=True)
class Frame:
    """One server-sent event on the wire; `token` frames are the ones paced and counted."""

    data: str
    token: bool = False


class ClientGone(Exception):
    """The client closed its end while the server was still answering."""


class FakeLLMServer(ABC):
    """The HTTP/1.1 + SSE machinery shared by both APIs; subclasses supply paths, frames and error bodies."""

    api_path = ""
    base_path = ""

    def __init__(self, plan: StreamPlan | None = None) -> None:
        self.plan = plan or StreamPlan()
        self.streams: list[RecordedStream] = []
        self.log: list[tuple[Any, ...]] = []
        self._server: asyncio.Server | None = None
        self._arrivals: asyncio.Queue[RecordedStream] = asyncio.Queue()
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not started"
        return self._server.sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve_connection, "127.0.0.1", port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Aborting the sockets ends every handler through its normal error path (cancelling them instead
        # makes Python 3.11's stream protocol log the cancellation as an error).
        for writer in self._connections.values():
            writer.transport.abort()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> FakeLLMServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def mark(self, label: str) -> None:
        """Put the caller's own event into `log`, ordered with the server's."""
        self.log.append((label,))

    async def next_stream(self, timeout: float) -> RecordedStream:
        """The next request to arrive (waiting at most `timeout` seconds)."""
        return await asyncio.wait_for(self._arrivals.get(), timeout)

    # Wire formats, supplied by each API.

    @abstractmethod
    def frames(self, plan: StreamPlan, body: Any) -> list[Frame]:
        """Every event of a complete answer to the request `body`, as the API sends them."""

    @abstractmethod
    def stream_error_frame(self) -> Frame:
        """The event the API sends when it fails mid-answer."""

    @abstractmethod
    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The JSON body of an HTTP error answer."""

    # HTTP.

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._connections[handler] = writer
        try:
            while await self._serve_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            del self._connections[handler]

    async def _serve_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection is over."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        raw_body = await reader.readexactly(int(headers.get("content-length", "0")))
        stream = RecordedStream(
            index=len(self.streams),
            method=method,
            path=path.split("?", 1)[0],
            headers=headers,
            body=json.loads(raw_body) if raw_body else None,
        )
        self.streams.append(stream)
        self._arrivals.put_nowait(stream)
        plan = self.plan
        try:
            if stream.method != "POST" or stream.path != self.api_path:
                await self._send_json(writer, 404, self.error_body(404, f"No route for {method} {path}."))
                return self._end(stream, "not-found", keep_alive=True)
            if plan.error_status is not None:
                message = plan.error_message.replace("{api_key}", stream.api_key)
                await self._send_json(writer, plan.error_status, self.error_body(plan.error_status, message))
                return self._end(stream, "error-status", keep_alive=True)
            return await self._send_stream(reader, writer, stream, plan)
        except ClientGone:
            self.log.append(("disconnect", stream.index, stream.tokens_sent))
            stream.disconnected.set()
            return self._end(stream, "client-disconnected", keep_alive=False)

    def _end(self, stream: RecordedStream, outcome: str, keep_alive: bool) -> bool:
        stream.outcome = outcome
        self.log.append(("end", stream.index, outcome))
        stream.finished.set()
        return keep_alive

    async def _send_json(self, writer: asyncio.StreamWriter, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        head = (
            f"HTTP/1.1 {status} {_reason(status)}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(payload)}\r\nconnection: keep-alive\r\n\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()

    async def _send_stream(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        stream: RecordedStream,
        plan: StreamPlan,
    ) -> bool:
        watcher = asyncio.create_task(_wait_for_eof(reader))
        outcome = "completed"
        try:
            if plan.hold_before_headers:
                await _pause(watcher, None)
            head = (
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                "transfer-encoding: chunked\r\ncache-control: no-cache\r\nconnection: keep-alive\r\n\r\n"
            )
            await _write(writer, watcher, head.encode())
            for frame in self.frames(plan, stream.body):
                if frame.token:
                    if stream.tokens_sent == plan.hold_after_tokens:
                        await _pause(watcher, None)
                    if stream.tokens_sent == plan.stream_error_after_tokens:
                        await _write(writer, watcher, _chunk(self.stream_error_frame().data))
                        outcome = "stream-error"
                        break
                    if stream.tokens_sent == plan.malformed_after_tokens:
                        await _write(writer, watcher, _chunk("data: {this is not json\n\n"))
                        outcome = "malformed"
                        break
                    if stream.tokens_sent == plan.drop_after_tokens:
                        writer.transport.abort()
                        return self._end(stream, "dropped", keep_alive=False)
                    if plan.interval:
                        await _pause(watcher, plan.interval)
                await _write(writer, watcher, _chunk(frame.data))
                if frame.token:
                    stream.tokens_sent += 1
                    self.log.append(("token", stream.index, stream.tokens_sent))
        finally:
            watcher.cancel()
            await asyncio.wait({watcher})
        # The watcher is gone before the body ends, so it cannot swallow the start of the next request.
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return self._end(stream, outcome, keep_alive=True)


class FakeOpenAIServer(FakeLLMServer):
    """`POST /v1/chat/completions` with `stream: true`, as OpenAI streams it (reasoning the vLLM way)."""

    api_path = "/v1/chat/completions"
    base_path = "/v1"

    def frames(self, plan: StreamPlan, body: Any) -> list[Frame]:
        model = body.get("model", "")

        def chunk(delta: dict[str, Any] | None, finish_reason: str | None = None, usage: Any = None) -> str:
            choices = [] if delta is None else [_openai_choice(delta, finish_reason)]
            payload = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 1767225600,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
                "choices": choices,
                "usage": usage,
            }
            return f"data: {json.dumps(payload)}\n\n"

        frames = [Frame(chunk({"role": "assistant", "content": "", "refusal": None}))]
        frames += [Frame(chunk({"reasoning_content": text}), token=True) for text in plan.reasoning]
        frames += [Frame(chunk({"content": text}), token=True) for text in plan.tokens]
        if plan.finish:
            frames.append(Frame(chunk({}, finish_reason=plan.finish_reason or "stop")))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "prompt_tokens": plan.prompt_tokens,
                "completion_tokens": plan.completion_tokens,
                "total_tokens": plan.prompt_tokens + plan.completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": len(plan.reasoning), "audio_tokens": 0},
            }
            frames.append(Frame(chunk(None, usage=usage)))
        frames.append(Frame("data: [DONE]\n\n"))
        return frames

    def stream_error_frame(self) -> Frame:
        error = {"message": "The server had an error while processing your request.", "type": "server_error"}
        return Frame(f"data: {json.dumps({'error': {**error, 'param': None, 'code': None}})}\n\n")

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = "invalid_request_error" if status < 500 else "server_error"
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class FakeAnthropicServer(FakeLLMServer):
    """`POST /v1/messages` with `stream: true`, as Anthropic streams it (a thinking block, then text)."""

    api_path = "/v1/messages"

    def frames(self, plan: StreamPlan, body: Any) -> list[Frame]:
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": plan.prompt_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 1,
            },
        }
        frames = [_sse("message_start", {"type": "message_start", "message": message})]
        index = 0
        if plan.reasoning:
            block = {"type": "thinking", "thinking": "", "signature": ""}
            frames.append(
                _sse(
                    "content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}
                )
            )
            frames += [
                _sse(
                    "content_block_delta",
                    _block_delta(0, {"type": "thinking_delta", "thinking": text}),
                    token=True,
                )
                for text in plan.reasoning
            ]
            frames.append(
                _sse("content_block_delta", _block_delta(0, {"type": "signature_delta", "signature": "c2ln"}))
            )
            frames.append(_sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
            index = 1
        block = {"type": "text", "text": ""}
        frames.append(
            _sse(
                "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}
            )
        )
        frames.append(_sse("ping", {"type": "ping"}))
        frames += [
            _sse("content_block_delta", _block_delta(index, {"type": "text_delta", "text": text}), token=True)
            for text in plan.tokens
        ]
        frames.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        if plan.finish:
            delta = {"stop_reason": plan.finish_reason or "end_turn", "stop_sequence": None}
            usage = {"output_tokens": plan.completion_tokens}
            frames.append(_sse("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
            frames.append(_sse("message_stop", {"type": "message_stop"}))
        return frames

    def stream_error_frame(self) -> Frame:
        return _sse(
            "error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = ANTHROPIC_ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}


def unused_port() -> int:
    """A loopback port nobody listens on (bound, then released), for "connection refused"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _openai_choice(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _block_delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def _sse(event: str, data: dict[str, Any], token: bool = False) -> Frame:
    return Frame(f"event: {event}\ndata: {json.dumps(data)}\n\n", token=token)


def _chunk(text: str) -> bytes:
    payload = text.encode()
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _wait_for_eof(reader: asyncio.StreamReader) -> None:
    """Return when the client closes its end (HTTP/1.1 clients send nothing while a response is under way)."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(MAX_HEAD_BYTES):
            pass


async def _pause(watcher: asyncio.Task[None], seconds: float | None) -> None:
    """Sleep `seconds` (None: forever), raising ClientGone as soon as the client leaves."""
    done, _ = await asyncio.wait({watcher}, timeout=seconds)
    if done:
        raise ClientGone


async def _write(writer: asyncio.StreamWriter, watcher: asyncio.Task[None], data: bytes) -> None:
    if watcher.done():
        raise ClientGone
    try:
        writer.write(data)
        await writer.drain()
    except ConnectionError:
        raise ClientGone from None


async def _serve_forever(kind: str, port: int, plan: StreamPlan) -> None:
    server = FakeOpenAIServer(plan) if kind == "openai" else FakeAnthropicServer(plan)
    await server.start(port)
    print(f"fake {kind} server: LLM_BASE_URL={server.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake streaming LLM API on 127.0.0.1.")
    parser.add_argument("kind", choices=("openai", "anthropic"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tokens", type=int, default=200, help="tokens per answer")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds before each token")
    arguments = parser.parse_args()
    tokens = tuple(f"token{n} " for n in range(arguments.tokens))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _serve_forever(
                arguments.kind, arguments.port, StreamPlan(tokens=tokens, interval=arguments.interval)
            )
        )


if __name__ == "__main__":
    main()
