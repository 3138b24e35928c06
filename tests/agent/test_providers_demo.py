"""The offline demo model: a deterministic answer, paced by its token rate, stoppable, and able to fail."""

from __future__ import annotations

import asyncio

import pytest

from chat.agent.providers import ChatTurn, Finish, ProviderError, TextDelta, Usage
from chat.agent.providers.demo import DemoProvider, compose_answer, tokenize
from chat.agent.providers.errors import UPSTREAM_FAILURE, UPSTREAM_RATE_LIMITED

WAIT = 5.0
QUESTION = "How do I make my Django tests faster when the database is slow?"


class RecordingSleep:
    """Stands in for `asyncio.sleep`: records each requested pause in `log`, next to the tokens received."""

    def __init__(self, log: list) -> None:
        self.log = log

    async def __call__(self, seconds: float) -> None:
        self.log.append(("sleep", seconds))


async def answer(turns: list[ChatTurn], provider: DemoProvider | None = None) -> list:
    provider = provider or DemoProvider(sleep=RecordingSleep([]))
    return [event async for event in provider.stream(turns)]


def text_of(events) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


async def test_answer_is_readable_markdown_about_the_question():
    events = await answer([ChatTurn("user", QUESTION)])
    text = text_of(events)

    assert text.startswith(f"> {QUESTION}\n\n## How do I make my Django…\n")
    assert "\n1. **" in text and "\n3. **" in text
    assert "```python\n" in text and f"print(longest_words({QUESTION[:60]!r}))\n```" in text
    assert text.rstrip().endswith("work the same way with every provider.")
    assert 150 <= sum(isinstance(event, TextDelta) for event in events) <= 250


async def test_answer_is_deterministic_and_depends_on_the_conversation():
    first = text_of(await answer([ChatTurn("user", QUESTION)]))
    again = text_of(await answer([ChatTurn("user", QUESTION)]))
    other = text_of(await answer([ChatTurn("user", "What is a monad?")]))
    follow_up = text_of(
        await answer(
            [ChatTurn("user", "What is a monad?"), ChatTurn("assistant", "…"), ChatTurn("user", QUESTION)]
        )
    )

    assert first == again == compose_answer([ChatTurn("user", QUESTION)])
    assert other != first
    assert follow_up != first
    assert "message 2 of our conversation" in follow_up


async def test_stream_ends_with_usage_then_finish():
    turns = [ChatTurn("system", "Be kind."), ChatTurn("user", "Hello there")]
    events = await answer(turns)

    completion = len(tokenize(compose_answer(turns)))
    assert events[-2:] == [Usage(prompt_tokens=4, completion_tokens=completion), Finish("stop")]
    assert all(isinstance(event, TextDelta) for event in events[:-2])


async def test_each_token_waits_one_rate_interval_first():
    log: list = []
    provider = DemoProvider(tokens_per_second=40, sleep=RecordingSleep(log))

    async for event in provider.stream([ChatTurn("user", QUESTION)]):
        if isinstance(event, TextDelta):
            log.append(("token", event.text))

    tokens = len(tokenize(compose_answer([ChatTurn("user", QUESTION)])))
    assert log[0::2] == [("sleep", 1 / 40)] * tokens
    assert [kind for kind, _ in log[1::2]] == ["token"] * tokens


async def test_configured_model_name_is_reported():
    assert DemoProvider().model == "demo-1"
    assert DemoProvider(model="demo-slow").model == "demo-slow"


@pytest.mark.parametrize("rate", [0, -5])
def test_non_positive_rate_is_refused(rate):
    with pytest.raises(ValueError, match="positive"):
        DemoProvider(tokens_per_second=rate)


async def test_cancelling_the_consumer_stops_the_wait_for_the_next_token():
    waiting = asyncio.Event()

    async def real_sleep_that_reports(seconds: float) -> None:
        waiting.set()
        await asyncio.sleep(seconds)

    provider = DemoProvider(tokens_per_second=0.001, sleep=real_sleep_that_reports)  # 1000 s per token
    received: list = []

    async def consume() -> None:
        async for event in provider.stream([ChatTurn("user", QUESTION)]):
            received.append(event)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(waiting.wait(), WAIT)
    task.cancel()
    await asyncio.wait([task], timeout=WAIT)

    assert task.cancelled()
    assert received == []


async def test_aclose_ends_the_stream():
    log: list = []
    stream = DemoProvider(sleep=RecordingSleep(log)).stream([ChatTurn("user", QUESTION)])
    await anext(stream)
    await anext(stream)

    await stream.aclose()

    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert log == [("sleep", 1 / 30)] * 2


async def test_error_phrase_fails_before_the_first_token():
    events = []
    with pytest.raises(ProviderError) as caught:
        async for event in DemoProvider(sleep=RecordingSleep([])).stream(
            [ChatTurn("user", "Hi [demo-error]")]
        ):
            events.append(event)

    assert caught.value.code == UPSTREAM_FAILURE
    assert events == []


async def test_error_phrase_with_options_fails_after_n_tokens_with_that_code():
    turns = [ChatTurn("user", "Hi [demo-error after=5 code=42910]")]
    events = []
    with pytest.raises(ProviderError) as caught:
        async for event in DemoProvider(sleep=RecordingSleep([])).stream(turns):
            events.append(event)

    assert caught.value.code == UPSTREAM_RATE_LIMITED
    assert events == [TextDelta(token) for token in tokenize(compose_answer(turns))[:5]]


async def test_unknown_error_code_falls_back_to_upstream_failure():
    with pytest.raises(ProviderError) as caught:
        await answer([ChatTurn("user", "[demo-error code=12345]")])

    assert caught.value.code == UPSTREAM_FAILURE


async def test_error_phrase_in_an_earlier_turn_is_ignored():
    turns = [
        ChatTurn("user", "[demo-error]"),
        ChatTurn("assistant", "(failed)"),
        ChatTurn("user", "Try again"),
    ]

    events = await answer(turns)

    assert events[-1] == Finish("stop")
