"""The OpenAI-compatible and Anthropic providers against local servers speaking their streaming wire formats.

Each test runs once per API. The servers record what the real service would see, so abort tests assert that
the upstream connection was closed (and when), not just that our generator stopped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from chat.agent.providers import ChatTurn, Finish, ProviderError, ReasoningDelta, TextDelta, Usage
from chat.agent.providers.anthropic_messages import AnthropicMessagesProvider
from chat.agent.providers.errors import (
    UPSTREAM_AUTH_REFUSED,
    UPSTREAM_FAILURE,
    UPSTREAM_RATE_LIMITED,
    UPSTREAM_REQUEST_REJECTED,
    UPSTREAM_TIMEOUT,
    UPSTREAM_UNREACHABLE,
)
from chat.agent.providers.openai_chat import OpenAIChatProvider
from tests.support.fake_llm_servers import (
    FakeAnthropicServer,
    FakeLLMServer,
    FakeOpenAIServer,
    StreamPlan,
    unused_port,
)

API_KEY = "sk-test-7f3a9c2e5b8d1046"
WAIT = 5.0  # upper bound on any wait; a hang fails the test instead of stalling the run
LONG_ANSWER = StreamPlan(tokens=tuple(f"word{n} " for n in range(2000)), interval=0.005)
TURNS = [ChatTurn("system", "Answer briefly."), ChatTurn("user", "Say hello.")]


@dataclass(frozen=True)
class Api:
    server_class: type[FakeLLMServer]
    provider_class: type[OpenAIChatProvider | AnthropicMessagesProvider]
    length_reason: str  # how this API says "cut at the token limit"


APIS = {
    "openai": Api(FakeOpenAIServer, OpenAIChatProvider, "length"),
    "anthropic": Api(FakeAnthropicServer, AnthropicMessagesProvider, "max_tokens"),
}


@pytest.fixture(params=sorted(APIS))
def api(request) -> Api:
    return APIS[request.param]


@pytest.fixture
async def server(api):
    async with api.server_class() as running:
        yield running


@pytest.fixture
async def provider(api, server):
    built = api.provider_class(api_key=API_KEY, model="test-model", base_url=server.base_url)
    yield built
    await built.aclose()


async def collect(provider, turns=TURNS) -> list[Any]:
    return [event async for event in provider.stream(turns)]


async def failure_of(provider, turns=TURNS) -> tuple[ProviderError, list[Any]]:
    """The ProviderError a stream ends with, and the events it yielded before it."""
    events = []
    with pytest.raises(ProviderError) as caught:
        async for event in provider.stream(turns):
            events.append(event)
    return caught.value, events


def text_of(events) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


async def test_full_stream_decodes_into_text_reasoning_usage_and_finish(server, provider):
    server.plan = StreamPlan(
        tokens=("Hel", "lo", " there"), reasoning=("Thinking", " briefly"), prompt_tokens=17
    )

    events = await collect(provider)

    assert [event for event in events if isinstance(event, ReasoningDelta)] == [
        ReasoningDelta("Thinking"),
        ReasoningDelta(" briefly"),
    ]
    assert text_of(events) == "Hello there"
    assert events[-2:] == [Usage(prompt_tokens=17, completion_tokens=5), Finish("stop")]
    request = server.streams[0]
    assert request.outcome == "completed"
    assert request.api_key == API_KEY
    assert request.body["model"] == "test-model"
    assert request.body["stream"] is True


async def test_token_limit_finish_is_reported_as_length(api, server, provider):
    server.plan = StreamPlan(finish_reason=api.length_reason)

    events = await collect(provider)

    assert events[-1] == Finish("length")


async def test_openai_request_keeps_system_turn_and_asks_for_usage():
    async with FakeOpenAIServer() as server:
        provider = OpenAIChatProvider(
            api_key=API_KEY, model="llama3", base_url=server.base_url, max_tokens=77
        )
        await collect(provider)
        await provider.aclose()

    body = server.streams[0].body
    assert body["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Say hello."},
    ]
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 77  # the field local OpenAI-compatible servers understand
    assert "max_completion_tokens" not in body


async def test_anthropic_request_moves_system_turns_to_the_system_parameter():
    turns = [ChatTurn("system", "Be brief."), ChatTurn("system", "Use English."), *TURNS[1:]]
    async with FakeAnthropicServer() as server:
        provider = AnthropicMessagesProvider(api_key=API_KEY, model="claude-test", base_url=server.base_url)
        await collect(provider, turns)
        await provider.aclose()

    body = server.streams[0].body
    assert body["system"] == "Be brief.\n\nUse English."
    assert body["messages"] == [{"role": "user", "content": "Say hello."}]
    assert body["max_tokens"] == 1024
    assert server.streams[0].api_key == API_KEY


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, UPSTREAM_REQUEST_REJECTED),
        (401, UPSTREAM_AUTH_REFUSED),
        (403, UPSTREAM_AUTH_REFUSED),
        (404, UPSTREAM_REQUEST_REJECTED),
        (429, UPSTREAM_RATE_LIMITED),
        (500, UPSTREAM_FAILURE),
        (503, UPSTREAM_FAILURE),
    ],
)
async def test_error_status_becomes_provider_error_without_the_key(server, provider, status, code):
    server.plan = StreamPlan(error_status=status, error_message="Incorrect API key provided: {api_key}.")

    error, events = await failure_of(provider)

    assert (error.code, error.status_code) == (code, code // 100)
    assert events == []
    assert API_KEY not in str(error)
    assert API_KEY[:12] not in str(error)
    assert server.streams[0].api_key == API_KEY  # the key really was sent and echoed back


async def test_upstream_detail_is_quoted_for_rejected_requests(server, provider):
    server.plan = StreamPlan(error_status=400, error_message="model 'test-model' does not exist")

    error, _ = await failure_of(provider)

    assert "model 'test-model' does not exist" in error.message
    assert "HTTP 400" in error.message


async def test_rate_limit_message_says_to_try_later(server, provider):
    server.plan = StreamPlan(error_status=429, error_message="slow down")

    error, _ = await failure_of(provider)

    assert "try again later" in error.message


@pytest.mark.parametrize(
    "plan",
    [
        StreamPlan(tokens=("a", "b", "c"), malformed_after_tokens=2),
        StreamPlan(tokens=("a", "b", "c"), stream_error_after_tokens=2),
        StreamPlan(tokens=("a", "b", "c"), drop_after_tokens=2),
        StreamPlan(tokens=("a", "b", "c"), finish=False),
    ],
    ids=["malformed", "error-event", "dropped", "no-finish"],
)
async def test_broken_stream_fails_after_the_tokens_it_delivered(server, provider, plan):
    server.plan = plan

    error, events = await failure_of(provider)

    assert error.code == UPSTREAM_FAILURE
    assert text_of(events) == ("abc" if not plan.finish else "ab")
    assert not any(isinstance(event, Finish) for event in events)


async def test_connection_refused_is_unreachable(api):
    provider = api.provider_class(api_key=API_KEY, model="m", base_url=f"http://127.0.0.1:{unused_port()}/v1")

    error, _ = await failure_of(provider)
    await provider.aclose()

    assert error.code == UPSTREAM_UNREACHABLE


async def test_silent_service_times_out_and_the_connection_is_closed(api, server):
    server.plan = StreamPlan(hold_after_tokens=1)
    provider = api.provider_class(api_key=API_KEY, model="m", base_url=server.base_url, timeout_seconds=0.3)

    error, events = await failure_of(provider)
    await provider.aclose()

    assert error.code == UPSTREAM_TIMEOUT
    assert text_of(events) == "Hello"
    await server.streams[0].wait_disconnected(WAIT)


async def test_aclose_mid_stream_closes_the_upstream_connection(server, provider):
    server.plan = LONG_ANSWER
    stream = provider.stream(TURNS)
    received = [await anext(stream) for _ in range(3)]

    server.mark("abort requested")
    await stream.aclose()
    upstream = await server.next_stream(WAIT)
    await upstream.wait_disconnected(WAIT)
    await upstream.wait_finished(WAIT)

    assert text_of(received) == "word0 word1 word2 "
    assert upstream.outcome == "client-disconnected"
    assert upstream.tokens_sent < len(LONG_ANSWER.tokens)
    log = server.log
    disconnect = log.index(("disconnect", 0, upstream.tokens_sent))
    assert log.index(("abort requested",)) < disconnect
    assert [entry for entry in log[disconnect:] if entry[0] == "token"] == []
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_cancelling_the_consuming_task_closes_the_upstream_connection(server, provider):
    server.plan = LONG_ANSWER
    received: list[Any] = []
    first_tokens = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(TURNS):
            received.append(event)
            if len(received) == 3:
                first_tokens.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_tokens.wait(), WAIT)
    server.mark("abort requested")
    task.cancel()
    upstream = await server.next_stream(WAIT)
    await upstream.wait_disconnected(WAIT)

    assert task.cancelled()
    assert server.log.index(("abort requested",)) < server.log.index(("disconnect", 0, upstream.tokens_sent))
    assert upstream.tokens_sent < len(LONG_ANSWER.tokens)


@pytest.mark.parametrize(
    "plan",
    [StreamPlan(hold_before_headers=True), StreamPlan(hold_after_tokens=0)],
    ids=["before-headers", "before-first-token"],
)
async def test_abort_before_the_first_token_closes_the_upstream_connection(server, provider, plan):
    server.plan = plan
    stream = provider.stream(TURNS)
    first = asyncio.create_task(anext(stream))
    upstream = await server.next_stream(WAIT)

    server.mark("abort requested")
    first.cancel()
    await upstream.wait_disconnected(WAIT)

    assert first.cancelled()
    assert upstream.tokens_sent == 0
    assert server.log.index(("abort requested",)) < server.log.index(("disconnect", 0, 0))


async def test_provider_serves_new_streams_after_an_abort(server, provider):
    server.plan = LONG_ANSWER
    stream = provider.stream(TURNS)
    await anext(stream)
    await stream.aclose()
    await (await server.next_stream(WAIT)).wait_disconnected(WAIT)

    server.plan = StreamPlan()
    events = await collect(provider)

    assert text_of(events) == "Hello, world!"
    assert server.streams[1].outcome == "completed"


async def test_aborting_one_stream_leaves_a_concurrent_one_running(server, provider):
    server.plan = StreamPlan(tokens=tuple(f"t{n} " for n in range(40)), interval=0.002)
    doomed = provider.stream(TURNS)
    await anext(doomed)
    survivor = asyncio.create_task(collect(provider))
    await server.next_stream(WAIT)
    second = await server.next_stream(WAIT)

    await doomed.aclose()
    events = await asyncio.wait_for(survivor, WAIT)

    assert server.streams[0].outcome == "client-disconnected"
    assert second.outcome == "completed"
    assert text_of(events) == "".join(f"t{n} " for n in range(40))
