"""The agent side of AI Transport against a real broker, observed by a subscribing peer."""

from __future__ import annotations

import asyncio

import pytest

from chat.transport import wire
from chat.transport.channel_writer import ChannelWriter
from chat.transport.errors import TransportError
from chat.transport.run import Invocation, RunHooks
from tests.transport.conftest import headers, slow_answer, text_stream

pytestmark = pytest.mark.live

WORDS = [f"w{i} " for i in range(40)]


def lifecycle(peer, run_id: str) -> list[str]:
    names = {
        wire.EVENT_RUN_START,
        wire.EVENT_STEP_START,
        wire.EVENT_OUTPUT,
        wire.EVENT_STEP_END,
        wire.EVENT_RUN_END,
    }
    return [m.name for m in peer.received if m.name in names and headers(m).get(wire.HEADER_RUN_ID) == run_id]


async def test_normal_run_follows_the_reference_sequence(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, codec_id = await user.send_input("Hello?")
    run = agent_session.create_run(Invocation(event_id, channel_name))
    located = await run.start()
    assert (located.client_id, located.text, located.codec_message_id) == ("user:1", "Hello?", codec_id)

    outcome = await run.pipe(slow_answer(["Hi ", "there"], 0))
    await run.end(outcome.reason)
    end = await user.wait_run_end(run.run_id)

    assert outcome.reason == "complete" and outcome.text == "Hi there"
    sequence = lifecycle(user, run.run_id)
    assert sequence[0] == wire.EVENT_RUN_START and sequence[1] == wire.EVENT_STEP_START
    assert sequence[-2:] == [wire.EVENT_STEP_END, wire.EVENT_RUN_END]
    start = user.named(wire.EVENT_RUN_START)[0]
    assert headers(start) == {
        wire.HEADER_RUN_ID: run.run_id,
        wire.HEADER_RUN_CLIENT_ID: "user:1",
        wire.HEADER_INVOCATION_ID: run.invocation_id,
        wire.HEADER_INPUT_CLIENT_ID: "user:1",
        wire.HEADER_INPUT_CODEC_MESSAGE_ID: codec_id,
        wire.HEADER_PARENT: codec_id,
    }
    assert start.client_id == "agent"
    assert headers(end)[wire.HEADER_RUN_REASON] == "complete"
    text, statuses = text_stream(user, run.run_id)
    assert text == "Hi there"
    assert statuses[0] == "streaming" and statuses[-1] == "complete"
    step_start = user.named(wire.EVENT_STEP_START)[0]
    for output in user.named(wire.EVENT_OUTPUT):
        h = headers(output)
        assert h[wire.HEADER_CODEC_MESSAGE_ID] == outcome.codec_message_id
        assert h[wire.HEADER_STEP_START_SERIAL] == step_start.serial
        assert h[wire.HEADER_ROLE] == "assistant" and h[wire.HEADER_PARENT] == codec_id


async def test_cancel_mid_stream_closes_the_stream_and_ends_cancelled(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, codec_id = await user.send_input("Tell me a long story")
    closed = asyncio.Event()
    run = agent_session.create_run(Invocation(event_id, channel_name))
    await run.start()
    piping = asyncio.ensure_future(run.pipe(slow_answer(WORDS, 0.05, closed)))
    await user.wait_for(lambda: len(text_stream(user, run.run_id)[0]) >= 6, "a few tokens")
    await user.cancel(input_codec_message_id=codec_id)
    outcome = await asyncio.wait_for(piping, 10)
    await run.end(outcome.reason)
    end = await user.wait_run_end(run.run_id)

    assert closed.is_set(), "the model stream was not closed"
    assert outcome.reason == "cancelled"
    assert 0 < len(outcome.text) < len("".join(WORDS))
    assert headers(end)[wire.HEADER_RUN_REASON] == "cancelled"
    text, statuses = text_stream(user, run.run_id)
    assert statuses[-1] == "cancelled"
    assert text == outcome.text
    step_end = user.named(wire.EVENT_STEP_END)[-1]
    assert headers(step_end)[wire.HEADER_STEP_REASON] == "cancelled"


async def test_cancel_by_run_id(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, _ = await user.send_input("hi")
    run = agent_session.create_run(Invocation(event_id, channel_name))
    await run.start()
    piping = asyncio.ensure_future(run.pipe(slow_answer(WORDS, 0.05)))
    await user.wait_for(lambda: bool(text_stream(user, run.run_id)[0]), "the first token")
    await user.cancel(run_id=run.run_id)
    assert (await asyncio.wait_for(piping, 10)).reason == "cancelled"


async def test_cancel_before_the_run_exists_is_buffered_and_honoured(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, codec_id = await user.send_input("hi")
    await user.cancel(input_codec_message_id=codec_id)
    await asyncio.wait_for(_until(lambda: agent_session.router.deferred_count == 1), 10)

    run = agent_session.create_run(Invocation(event_id, channel_name))
    await run.start()
    outcome = await run.pipe(slow_answer(WORDS, 0.05))
    await run.end(outcome.reason)

    assert outcome.reason == "cancelled" and outcome.text == ""
    assert lifecycle(user, run.run_id)[0] == wire.EVENT_RUN_START
    assert headers(await user.wait_run_end(run.run_id))[wire.HEADER_RUN_REASON] == "cancelled"


async def test_cancel_published_before_the_agent_attached_is_found_in_history(
    live_broker, make_peer, channel_name
):
    from chat.transport.clients import build_clients
    from chat.transport.session import AgentSession
    from tests.transport.conftest import target_of

    user = await make_peer()
    event_id, codec_id = await user.send_input("hi")
    await user.cancel(input_codec_message_id=codec_id)
    clients = build_clients(live_broker.api_key, target_of(live_broker))
    session = AgentSession(clients.realtime, channel_name, history_client=clients.rest)
    try:
        await session.connect()
        run = session.create_run(Invocation(event_id, channel_name))
        await run.start()
        outcome = await run.pipe(slow_answer(WORDS, 0.05))
        await run.end(outcome.reason)
    finally:
        await session.detach()
        await clients.close()
    assert outcome.reason == "cancelled"


async def test_duplicate_cancels_abort_once(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, codec_id = await user.send_input("hi")
    asked: list[str | None] = []
    aborts = 0

    def on_cancel(request) -> bool:
        asked.append(request.client_id)
        return True

    run = agent_session.create_run(Invocation(event_id, channel_name), hooks=RunHooks(on_cancel=on_cancel))
    await run.start()
    original_set = run.abort_signal.set

    def counting_set() -> None:
        nonlocal aborts
        aborts += 1
        original_set()

    run.abort_signal.set = counting_set  # type: ignore[method-assign]
    piping = asyncio.ensure_future(run.pipe(slow_answer(WORDS, 0.05)))
    await user.wait_for(lambda: bool(text_stream(user, run.run_id)[0]), "the first token")
    await user.cancel(input_codec_message_id=codec_id)
    await user.cancel(run_id=run.run_id)
    await user.cancel(input_codec_message_id=codec_id)
    outcome = await asyncio.wait_for(piping, 10)
    await asyncio.wait_for(_until(lambda: len(asked) == 3), 10)
    assert outcome.reason == "cancelled"
    assert aborts == 1
    assert asked == ["user:1"] * 3


async def test_refused_cancel_leaves_the_run_running(make_peer, agent_session, channel_name):
    owner = await make_peer("user:1")
    intruder = await make_peer("user:2")
    event_id, codec_id = await owner.send_input("hi")
    refused: list[str | None] = []

    def only_owner(request) -> bool:
        if request.client_id != "user:1":
            refused.append(request.client_id)
            return False
        return True

    run = agent_session.create_run(Invocation(event_id, channel_name), hooks=RunHooks(on_cancel=only_owner))
    await run.start()
    piping = asyncio.ensure_future(run.pipe(slow_answer(WORDS[:10], 0.05)))
    await owner.wait_for(lambda: bool(text_stream(owner, run.run_id)[0]), "the first token")
    await intruder.cancel(input_codec_message_id=codec_id)
    await intruder.cancel(run_id=run.run_id)
    outcome = await asyncio.wait_for(piping, 10)
    assert refused == ["user:2", "user:2"]
    assert outcome.reason == "complete" and outcome.text == "".join(WORDS[:10])


async def test_on_cancelled_can_write_a_final_note(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, codec_id = await user.send_input("hi")

    async def note(write) -> None:
        await write({"type": "data-note", "data": {"text": "Stopped at your request."}})

    run = agent_session.create_run(Invocation(event_id, channel_name), hooks=RunHooks(on_cancelled=note))
    await run.start()
    piping = asyncio.ensure_future(run.pipe(slow_answer(WORDS, 0.05)))
    await user.wait_for(lambda: bool(text_stream(user, run.run_id)[0]), "the first token")
    await user.cancel(input_codec_message_id=codec_id)
    await run.end((await asyncio.wait_for(piping, 10)).reason)
    await user.wait_run_end(run.run_id)
    notes = [m for m in user.named(wire.EVENT_OUTPUT) if m.data == {"text": "Stopped at your request."}]
    assert len(notes) == 1
    names = [m.name for m in user.received]
    assert names.index(wire.EVENT_OUTPUT, names.index(wire.EVENT_OUTPUT)) < names.index(wire.EVENT_RUN_END)


async def test_stream_error_ends_the_run_with_its_code_and_message(make_peer, agent_session, channel_name):
    class UpstreamDown(Exception):
        code = 50300
        message = "the model service is unavailable"

    async def failing():
        yield {"type": "text-start", "id": "t1"}
        yield {"type": "text-delta", "id": "t1", "delta": "partial "}
        raise UpstreamDown()

    user = await make_peer()
    event_id, _ = await user.send_input("hi")
    run = agent_session.create_run(Invocation(event_id, channel_name))
    await run.start()
    outcome = await run.pipe(failing())
    await run.end(outcome.reason, outcome.error)
    end = headers(await user.wait_run_end(run.run_id))
    assert outcome.reason == "error"
    assert end[wire.HEADER_RUN_REASON] == "error"
    assert end[wire.HEADER_ERROR_CODE] == "50300"
    assert end[wire.HEADER_ERROR_MESSAGE] == "the model service is unavailable"
    assert text_stream(user, run.run_id)[1][-1] == "cancelled"


async def test_concurrent_runs_cancel_independently(make_peer, agent_session, channel_name):
    user = await make_peer()
    first_event, first_codec = await user.send_input("first")
    second_event, _ = await user.send_input("second")
    first = agent_session.create_run(Invocation(first_event, channel_name))
    second = agent_session.create_run(Invocation(second_event, channel_name))
    await first.start()
    await second.start()
    a = asyncio.ensure_future(first.pipe(slow_answer(WORDS, 0.05)))
    b = asyncio.ensure_future(second.pipe(slow_answer(WORDS[:12], 0.05)))
    await user.wait_for(lambda: bool(text_stream(user, first.run_id)[0]), "first run's tokens")
    await user.cancel(input_codec_message_id=first_codec)
    first_outcome, second_outcome = await asyncio.wait_for(asyncio.gather(a, b), 15)
    assert first_outcome.reason == "cancelled"
    assert second_outcome.reason == "complete" and second_outcome.text == "".join(WORDS[:12])


async def test_end_publishes_run_end_exactly_once(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, _ = await user.send_input("hi")
    run = agent_session.create_run(Invocation(event_id, channel_name))
    await run.start()
    assert await run.end("complete") is True
    assert await run.end("error") is False
    await user.wait_run_end(run.run_id)
    await agent_session.end()
    await asyncio.sleep(0.3)
    assert (
        len([m for m in user.named(wire.EVENT_RUN_END) if headers(m)[wire.HEADER_RUN_ID] == run.run_id]) == 1
    )


async def test_session_end_ends_open_runs_cancelled(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, _ = await user.send_input("hi")
    run = agent_session.create_run(Invocation(event_id, channel_name))
    await run.start()
    await agent_session.end()
    assert headers(await user.wait_run_end(run.run_id))[wire.HEADER_RUN_REASON] == "cancelled"


async def test_unknown_input_fails_with_input_event_not_found(agent_session, channel_name):
    run = agent_session.create_run(Invocation("no-such-event", channel_name))
    with pytest.raises(TransportError) as caught:
        await run.start(locate_timeout=0.5)
    assert caught.value.code == wire.ERROR_INPUT_EVENT_NOT_FOUND


async def test_history_shows_finished_parts_done_and_live_ones_streaming(
    make_peer, agent_session, channel_name
):
    user = await make_peer()
    done_event, _ = await user.send_input("first")
    live_event, _ = await user.send_input("second")
    finished = agent_session.create_run(Invocation(done_event, channel_name))
    await finished.start()
    await finished.end((await finished.pipe(slow_answer(["done"], 0))).reason)
    live = agent_session.create_run(Invocation(live_event, channel_name))
    await live.start()
    gate = asyncio.Event()

    async def hanging():
        yield {"type": "text-start", "id": "t1"}
        yield {"type": "text-delta", "id": "t1", "delta": "still going"}
        await gate.wait()

    piping = asyncio.ensure_future(live.pipe(hanging()))
    await user.wait_for(lambda: "still going" in text_stream(user, live.run_id)[0], "the live token")
    await asyncio.sleep(0.2)  # let the rollup window flush to storage

    page = await user.clients.rest.channels.get(channel_name).history()
    streams = {
        headers(m)[wire.HEADER_RUN_ID]: m
        for m in page.items
        if m.name == wire.EVENT_OUTPUT and headers(m).get(wire.HEADER_STREAM) == wire.TRUE
    }
    done_msg, live_msg = streams[finished.run_id], streams[live.run_id]
    assert (done_msg.data, headers(done_msg)[wire.HEADER_STATUS]) == ("done", "complete")
    assert done_msg.version.metadata == {wire.METADATA_PHASE: wire.PHASE_DONE}
    assert (live_msg.data, headers(live_msg)[wire.HEADER_STATUS]) == ("still going", "streaming")
    assert live_msg.version.metadata == {wire.METADATA_PHASE: wire.PHASE_STREAMING}
    live.abort()
    await asyncio.wait_for(piping, 10)


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.02)


class LosingWriter(ChannelWriter):
    """The real channel writer, except that chosen appends (and optionally the repair) never go out."""

    def __init__(self, channel, lose_appends: set[int], lose_update: bool = False) -> None:
        super().__init__(channel)
        self.lose_appends = lose_appends
        self.lose_update = lose_update
        self.appends = 0
        self.updates = 0

    async def append(self, serial, data, extras, phase) -> None:
        self.appends += 1
        if self.appends in self.lose_appends:
            raise ConnectionError("append lost")
        await super().append(serial, data, extras, phase)

    async def update(self, serial, data, extras, phase) -> None:
        self.updates += 1
        if self.lose_update:
            raise ConnectionError("update lost")
        await super().update(serial, data, extras, phase)


async def test_a_lost_append_is_repaired_with_one_full_update(make_peer, agent_session, channel_name):
    user = await make_peer()
    event_id, _ = await user.send_input("hi")
    writer = LosingWriter(agent_session.writer.channel, lose_appends={2})
    agent_session.writer = writer
    run = agent_session.create_run(Invocation(event_id, channel_name))
    await run.start()
    outcome = await run.pipe(slow_answer(["a ", "b ", "c ", "d"], 0.06))
    await run.end(outcome.reason)
    await user.wait_run_end(run.run_id)

    assert outcome.reason == "complete" and writer.updates == 1
    text, statuses = text_stream(user, run.run_id)
    assert text == "a b c d" and statuses[-1] == "complete"
    page = await user.clients.rest.channels.get(channel_name).history()
    stored = [m for m in page.items if headers(m).get(wire.HEADER_STREAM) == wire.TRUE]
    assert [m.data for m in stored] == ["a b c d"]


async def test_a_failed_repair_ends_the_stream_with_encoder_recovery_failed(
    make_peer, agent_session, channel_name
):
    user = await make_peer()
    event_id, _ = await user.send_input("hi")
    agent_session.writer = LosingWriter(agent_session.writer.channel, lose_appends={1}, lose_update=True)
    run = agent_session.create_run(Invocation(event_id, channel_name))
    await run.start()
    outcome = await run.pipe(slow_answer(["a ", "b"], 0))
    assert outcome.reason == "error"
    assert outcome.error.code == wire.ERROR_ENCODER_RECOVERY_FAILED
