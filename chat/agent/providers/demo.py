"""The offline demo model: a deterministic markdown answer about the prompt, streamed at a steady token rate.

It needs no network and no key, so a fresh install can show streaming, Stop and reload at once, and tests get
the same answer for the same conversation every time. The answer quotes the question, and has a heading, a
numbered list, a fenced Python block and a closing paragraph (about 200 tokens). A token is a word with
the whitespace that follows it; one token is emitted every 1 / `tokens_per_second` seconds, the first one
included.

Failure on demand, for testing the agent's error path end to end: when the latest user turn contains

- ``[demo-error]``, the stream raises `ProviderError` before its first token;
- ``[demo-error after=N]``, it raises after N text tokens;
- ``[demo-error code=C]`` (combinable with ``after=N``), the error has code C, one of `errors.ERROR_CODES`.

Only the latest user turn is read for this, so an earlier failed turn does not break the rest of a
conversation.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable

from chat.agent.providers.errors import ERROR_CODES, UPSTREAM_FAILURE, ProviderError
from chat.agent.providers.events import FINISH_STOP, Finish, ProviderEvent, TextDelta, Usage
from chat.agent.providers.turns import ChatTurn

DEFAULT_MODEL = "demo-1"
DEFAULT_TOKENS_PER_SECOND = 30.0
ERROR_TRIGGER = re.compile(r"\[demo-error((?:\s+(?:after|code)=\d+)*)\]")
ERROR_OPTION = re.compile(r"(after|code)=(\d+)")
TOKEN = re.compile(r"\S+\s*")
QUOTE_LENGTH = 200
TOPIC_WORDS = 6
CODE_LITERAL_LENGTH = 60

ASPECTS = (
    ("Start small", "pick the simplest version of the idea that could possibly work, then grow it"),
    ("Measure first", "find out where the time or effort actually goes before changing anything"),
    ("Name things well", "a clear name saves every future reader a minute of puzzling"),
    ("Keep it reversible", "prefer steps you can undo, so that trying something costs little"),
    ("Write it down", "a short note today answers tomorrow's question before it is asked"),
    ("Ask for review", "a second pair of eyes catches what the first pair learned to skip"),
    ("Test the edges", "empty inputs, huge inputs and odd characters are where surprises live"),
    ("Mind the user", "the person on the other side cares about the result, not the machinery"),
)
ASPECTS_PER_ANSWER = 3


def tokenize(text: str) -> list[str]:
    """Split `text` into demo tokens; joining them gives back `text` minus any leading whitespace."""
    return TOKEN.findall(text)


def compose_answer(turns: list[ChatTurn]) -> str:
    """The full demo answer to `turns`: a pure function of the conversation."""
    question = latest_user_text(turns)
    one_line = " ".join(question.split()) or "(an empty message)"
    quote = one_line if len(one_line) <= QUOTE_LENGTH else one_line[: QUOTE_LENGTH - 1] + "…"
    words = re.findall(r"[\w'-]+", question)
    topic = derive_title(question)
    digest = hashlib.sha256(one_line.encode()).digest()
    first = digest[0] % len(ASPECTS)
    aspects = [ASPECTS[(first + step * 3) % len(ASPECTS)] for step in range(ASPECTS_PER_ANSWER)]
    earlier = sum(1 for turn in turns if turn.role == "user") - 1
    literal = repr(one_line[:CODE_LITERAL_LENGTH])
    items = "\n".join(f"{n}. **{title}**: {detail}." for n, (title, detail) in enumerate(aspects, start=1))
    history = (
        f"This is message {earlier + 1} of our conversation, so the earlier "
        f"{'one is' if earlier == 1 else f'{earlier} are'} part of the prompt too."
        if earlier
        else "This is the first message of our conversation."
    )
    return (
        f"> {quote}\n\n"
        f"## {topic}\n\n"
        f"This answer comes from the offline demo model, so it is the same every time you ask. Your message "
        f"has {len(words)} word{'' if len(words) == 1 else 's'}. {history} A real model would think about it "
        f"properly; this one offers three general habits that rarely hurt:\n\n"
        f"{items}\n\n"
        f"Here is a little Python that looks at your message the way this demo does:\n\n"
        f"```python\n"
        f"def longest_words(message: str, count: int = 3) -> list[str]:\n"
        f'    """Return the longest words of the message, longest first."""\n'
        f"    words = message.split()\n"
        f"    return sorted(words, key=len, reverse=True)[:count]\n"
        f"\n"
        f"\n"
        f"print(longest_words({literal}))\n"
        f"```\n\n"
        f"That is all the demo model knows. Set `LLM_PROVIDER` to `openai` or `anthropic` to talk to a real "
        f"model; streaming, Stop and reload work the same way with every provider."
    )


def derive_title(question: str) -> str:
    """The demo's title for a conversation starting with `question`: its first words (the answer's heading).

    A real model is asked for a title (chat/titles.py); the demo cannot summarise, so it derives one the same
    way every time, which lets tests predict it.
    """
    words = re.findall(r"[\w'-]+", question)
    topic = " ".join(words[:TOPIC_WORDS]) + ("…" if len(words) > TOPIC_WORDS else "")
    return topic[:1].upper() + topic[1:] if topic else "Your message"


def latest_user_text(turns: list[ChatTurn]) -> str:
    """The text of the last user turn, or empty when there is none."""
    return next((turn.text for turn in reversed(turns) if turn.role == "user"), "")


def requested_failure(turns: list[ChatTurn]) -> tuple[int, int] | None:
    """(tokens before failing, error code) when the latest user turn asks for a failure, else None."""
    match = ERROR_TRIGGER.search(latest_user_text(turns))
    if match is None:
        return None
    options = dict(ERROR_OPTION.findall(match.group(1)))
    code = int(options.get("code", UPSTREAM_FAILURE))
    return int(options.get("after", 0)), code if code in ERROR_CODES else UPSTREAM_FAILURE


class DemoProvider:
    """The offline model; `sleep` is injectable so tests can observe the pacing without waiting for it."""

    name = "demo"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if tokens_per_second <= 0:
            raise ValueError("tokens_per_second must be positive")
        self.model = model
        self.tokens_per_second = tokens_per_second
        self._sleep = sleep

    async def stream(self, turns: list[ChatTurn]) -> AsyncIterator[ProviderEvent]:
        """Yield the demo answer token by token; aborting interrupts the wait for the next token."""
        failure = requested_failure(turns)
        tokens = tokenize(compose_answer(turns))
        interval = 1 / self.tokens_per_second
        for sent, token in enumerate(tokens):
            if failure is not None and sent == failure[0]:
                raise ProviderError(failure[1], f"The demo model failed on request, after {sent} tokens.")
            await self._sleep(interval)
            yield TextDelta(token)
        if failure is not None:
            raise ProviderError(failure[1], f"The demo model failed on request, after {len(tokens)} tokens.")
        prompt_tokens = sum(len(tokenize(turn.text)) for turn in turns)
        yield Usage(prompt_tokens=prompt_tokens, completion_tokens=len(tokens))
        yield Finish(FINISH_STOP)

    async def aclose(self) -> None:
        """Nothing to release: the demo model holds no connections."""
