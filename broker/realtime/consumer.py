"""The Ably realtime WebSocket endpoint: one consumer instance per socket (§3, §11, §12).

The consumer owns the socket's life: authenticate the query string, create or resume the
connection state, answer with CONNECTED, then read one ProtocolMessage per frame and hand it to
the channel operations (`attach`, `publish`). Frames are handled one at a time, in order, which is
what gives per-connection ordering of publishes and appends. Everything the server says goes
through the connection's `Outbox`.

Frames are read as they arrive and queued (`broker.realtime.intake`, bounded); one task per
connection handles them in order. HEARTBEATs are answered on arrival, so a busy connection still
answers pings. Every frame passes the per-connection rate limit (`broker.realtime.ratelimit`) on
arrival: a publish over the limit is NACKed with 42911, a flood far beyond it closes the connection.

Bad input never escapes as an exception: a frame that cannot be read (malformed, unknown action,
oversized) is answered with a connection ERROR and the socket is closed; a bad ACK-required frame
with a readable msgSerial (a bad field, a value beyond `broker.inbound_limits`) is NACKed; a bad
channel operation gets a channel ERROR. If the socket cannot be written, it is closed. Other
connections never notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from broker import conf as broker_conf
from broker import shutdown
from broker.auth import authenticate_realtime, resolve_client_id
from broker.auth.credentials import connection_details_client_id
from broker.channel_names import check_channel_name
from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.fanout import hub
from broker.realtime import conf
from broker.realtime.acks import AckQueue
from broker.realtime.attach import attach, detach, fail_channel, recheck_capabilities, suspend_attachments
from broker.realtime.codec import FrameCodec
from broker.realtime.inbound import (
    read_access_token,
    read_action,
    read_channel,
    read_msg_serial,
)
from broker.realtime.intake import Inbound, Intake, IntakeFull
from broker.realtime.memory import trim_soon
from broker.realtime.outbox import Outbox
from broker.realtime.presence import roster, synthesized_leaves
from broker.realtime.publish import handle_ack_required, nack
from broker.realtime.ratelimit import (
    InboundRate,
    Verdict,
    inbound_rate_for,
    rate_exceeded,
    rate_exceeded_fatal,
)
from broker.realtime.registry import ConnectionState, registry
from broker.wire import (
    ACK_REQUIRED_ACTIONS,
    CD_CLIENT_ID,
    CD_CONNECTION_KEY,
    CD_CONNECTION_STATE_TTL,
    CD_MAX_FRAME_SIZE,
    CD_MAX_IDLE_INTERVAL,
    CD_MAX_INBOUND_RATE,
    CD_MAX_MESSAGE_SIZE,
    CD_SERVER_ID,
    CD_SITE_CODE,
    F_ACTION,
    F_CHANNEL,
    F_CONNECTION_DETAILS,
    F_CONNECTION_ID,
    F_CONNECTION_KEY,
    F_ERROR,
    F_ID,
    F_MESSAGES,
    F_MSG_SERIAL,
    F_PRESENCE,
    PARAM_ACCESS_TOKEN,
    PARAM_APPEND_ROLLUP_WINDOW,
    PARAM_CLIENT_ID,
    PARAM_ECHO,
    PARAM_FORMAT,
    PARAM_KEY,
    PARAM_RECOVER,
    PARAM_REMAIN_PRESENT_FOR,
    PARAM_RESUME,
    Action,
)

log = logging.getLogger(__name__)

_MAX_ROLLUP_WINDOW_MS = 500
_CLOSE_FLUSH_TIMEOUT_S = 5
_LEAVE_GRACE_S = 2.0
_TOKEN_TIMERS = ("token_renewal", "token_expiry")


def _query_params(scope: dict) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}


def _weight(frame: dict, action: int) -> int:
    """How many messages a frame counts for in the rate limit: its messages, or 1."""
    if action in ACK_REQUIRED_ACTIONS:
        items = frame.get(F_MESSAGES if action == Action.MESSAGE else F_PRESENCE)
        if isinstance(items, list) and items:
            return len(items)
    return 1


def _rollup_window(params: dict[str, str]) -> int:
    try:
        window = int(params[PARAM_APPEND_ROLLUP_WINDOW])
    except (KeyError, ValueError):
        return conf.default_append_rollup_window_ms()
    return min(max(window, 0), _MAX_ROLLUP_WINDOW_MS)


def _remain_present_for(params: dict[str, str]) -> int:
    """`remainPresentFor` (ms): how long members of an abruptly dropped connection stay present."""
    try:
        delay = int(params[PARAM_REMAIN_PRESENT_FOR])
    except (KeyError, ValueError):
        return conf.presence_leave_delay_ms()
    return min(max(delay, 0), conf.connection_state_ttl_ms())


class RealtimeConsumer(AsyncWebsocketConsumer):
    state: ConnectionState | None = None
    outbox: Outbox | None = None
    echo = True
    rollup_window_ms = 0
    remain_present_for_ms = 0
    _closing = False
    _stopped_reading = False
    _worker: asyncio.Task | None = None
    _busy = False

    # -- socket lifecycle ----------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        """Run the consumer; however it ends (Daphne cancels one that is slow to close), let go of
        the socket, so the connection state does not keep it (and its unread frames) alive."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._let_go()

    async def _let_go(self) -> None:
        trim_soon()
        self._closing = True
        self._stop_worker()
        if self.outbox is not None:
            self.outbox.stop()
        state = self.state
        if state is not None and state.transport is self:
            try:
                await self._release(state, discard=False)
            except Exception:
                log.exception("could not release connection %s", state.connection_id)

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch without its per-message `close_old_connections` in the database thread.

        That hop made every frame of every connection wait behind all queued database work, so a
        flood of publishes from one client delayed everyone's frames, and a flooding socket's own
        disconnect long enough for Daphne to kill the consumer before it released its state (the
        memory that never came back). Database work here goes through `database_sync_to_async`,
        which closes stale connections around each call itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        params = _query_params(self.scope)
        self.codec = FrameCodec.for_format(params.get(PARAM_FORMAT))
        self.echo = params.get(PARAM_ECHO, "true").lower() != "false"
        self.rollup_window_ms = _rollup_window(params)
        self.remain_present_for_ms = _remain_present_for(params)
        shutdown.install_once()
        self._client_gone = asyncio.Event()
        await self.accept()
        self.acks = AckQueue(self.send_frame)
        self.outbox = Outbox(
            self.codec,
            self._write,
            heartbeat_ms=conf.max_idle_interval_ms(),
            max_backlog=conf.max_outbound_backlog(),
            on_overflow=self._drop_transport,
            on_write_failure=self._drop_transport,
        )
        self.outbox.start()
        self.rate = InboundRate(conf.max_inbound_rate(), conf.inbound_burst())
        self.intake = Intake(
            max_frames=conf.max_inbound_backlog(), max_bytes=conf.max_inbound_backlog_bytes()
        )
        try:
            await self._establish(params)
        except AblyError as error:
            self.send_frame({F_ACTION: Action.ERROR, F_ERROR: error.to_dict()})
            await self._close_socket()
        except Exception:
            log.exception("could not establish a realtime connection")
            self.send_frame(
                {
                    F_ACTION: Action.ERROR,
                    F_ERROR: AblyError(ErrorCode.INTERNAL, 500, "Internal error").to_dict(),
                }
            )
            await self._close_socket()

    async def _establish(self, params: dict[str, str]) -> None:
        token = next((params[name] for name in PARAM_ACCESS_TOKEN if params.get(name)), None)
        credentials = await database_sync_to_async(authenticate_realtime)(
            key=params.get(PARAM_KEY) or None, access_token=token
        )
        client_id = resolve_client_id(credentials, params.get(PARAM_CLIENT_ID) or None)
        resume_key = params.get(PARAM_RESUME) or params.get(PARAM_RECOVER)
        resume_error: AblyError | None = None
        state: ConnectionState | None = None
        if resume_key:
            try:
                state = registry.find(resume_key, client_id)
            except AblyError as error:
                resume_error = error
        if state is None:
            state = registry.create(credentials, client_id)
        else:
            await self._take_over(state)
            state.credentials = credentials
        state.transport = self
        self.rate = InboundRate(inbound_rate_for(credentials), conf.inbound_burst())
        self.state = state
        state.cancel("state_expiry")
        state.cancel("presence_leave")
        self._send_connected(resume_error)
        self._schedule_token_timers()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _take_over(self, state: ConnectionState) -> None:
        """Resume onto a new socket; the old one, if the server still holds it, is closed quietly."""
        previous = state.transport
        state.transport = None
        for name in _TOKEN_TIMERS:
            state.cancel(name)
        await suspend_attachments(state)
        if previous is not None and previous is not self:
            previous.superseded()

    def superseded(self) -> None:
        self._drop_transport()

    def _stop_worker(self) -> None:
        """Stop handling frames. Queued ones are dropped (a resumed client sends them again); one in
        progress finishes, so its ACK/NACK is recorded for that resume instead of being lost."""
        self._closing = True
        if hasattr(self, "intake"):
            self.intake.clear()
        if self._worker is not None and not self._busy and self._worker is not asyncio.current_task():
            self._worker.cancel()
        self._worker = None

    async def disconnect(self, code: int) -> None:
        self._client_gone.set()
        self._closing = True
        self._stop_worker()
        if self.outbox is not None:
            self.outbox.stop()
            self.acks.stop()
        state = self.state
        if state is None or state.transport is not self:
            return
        await self._release(state, discard=False)

    async def _release(self, state: ConnectionState, *, discard: bool) -> None:
        """Detach this socket from its connection; keep the state resumable unless `discard`."""
        state.transport = None
        for name in _TOKEN_TIMERS:
            state.cancel(name)
        await suspend_attachments(state)
        if discard:
            registry.discard(state)
            await _leave_presence(state.connection_id)
            return
        connection_id = state.connection_id

        def leave_presence() -> None:
            asyncio.get_running_loop().create_task(_leave_presence(connection_id))

        state.schedule("presence_leave", self.remain_present_for_ms, leave_presence)
        state.schedule("state_expiry", conf.connection_state_ttl_ms(), lambda: registry.discard(state))

    # -- outbound ------------------------------------------------------------------------------------

    def send_frame(self, frame: dict) -> None:
        if self.outbox is not None and not self._closing:
            self.outbox.put(frame)

    async def _write(self, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            await self.send(bytes_data=raw)
        else:
            await self.send(text_data=raw)

    async def _close_socket(self) -> None:
        """Flush what is queued (e.g. an ERROR or CLOSED frame), then close the socket."""
        if self._closing:
            return
        self._closing = True
        if self.outbox is not None:
            self.outbox.finish()
            try:
                await asyncio.wait_for(self.outbox.drained.wait(), _CLOSE_FLUSH_TIMEOUT_S)
            except TimeoutError:
                log.info("close: outbound frames not flushed in time")
        await self.close()

    def stop_reading(self) -> None:
        """The server is going down: frames from now on are not taken (the client will resend them)."""
        self._stopped_reading = True

    def _refuse_while_leaving(self, text_data: str | None, bytes_data: bytes | None) -> None:
        """A frame that arrives while the server stops: a publish gets a NACK, never silence."""
        try:
            frame = self.codec.parse(text=text_data, data=bytes_data)
            self._refuse(frame, read_action(frame))
        except AblyError:
            return

    def _refuse(self, frame: dict, action: int) -> None:
        if action not in ACK_REQUIRED_ACTIONS:
            return
        try:
            msg_serial = read_msg_serial(frame)
        except AblyError:
            return
        self._reject(msg_serial, AblyError(ErrorCode.CONNECTION_DISCONNECTED, 503, "Server shutting down"))

    async def leave(self, error: AblyError) -> None:
        """Tell the client to reconnect elsewhere (DISCONNECTED) once its ACKs are out, then close.

        Publishes still in flight towards us are NACKed until the client drops the socket (or a short
        grace passes): an SDK that does not requeue its pending messages on DISCONNECTED (ably-python)
        would otherwise wait for their ACKs forever.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle(), _LEAVE_GRACE_S)  # a frame in progress gets its reply
        await self.acks.flushed()
        self.send_frame({F_ACTION: Action.DISCONNECTED, F_ERROR: error.to_dict()})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._client_gone.wait(), _LEAVE_GRACE_S)
        await self.acks.flushed()
        await self._close_socket()

    async def _idle(self) -> None:
        while self._busy:
            await asyncio.sleep(0.005)

    def _drop_transport(self) -> None:
        """Close at once, without flushing: the socket cannot take more (not read, or write failed)."""
        if self._closing and self.outbox is None:
            return
        self._closing = True
        self._stop_worker()
        if self.outbox is not None:
            self.outbox.stop()
            self.outbox = None
        asyncio.get_running_loop().create_task(self.close())

    def _send_connected(self, error: AblyError | None = None) -> None:
        state = self.state
        frame = {
            F_ACTION: Action.CONNECTED,
            F_CONNECTION_ID: state.connection_id,
            F_CONNECTION_KEY: state.connection_key,
            F_CONNECTION_DETAILS: {
                CD_CLIENT_ID: connection_details_client_id(state.credentials, state.client_id),
                CD_CONNECTION_KEY: state.connection_key,
                CD_CONNECTION_STATE_TTL: conf.connection_state_ttl_ms(),
                CD_MAX_IDLE_INTERVAL: conf.max_idle_interval_ms(),
                CD_MAX_MESSAGE_SIZE: broker_conf.max_message_size(),
                CD_MAX_FRAME_SIZE: conf.max_frame_size(),
                CD_MAX_INBOUND_RATE: conf.max_inbound_rate(),
                CD_SERVER_ID: conf.server_id(),
                CD_SITE_CODE: broker_conf.site_code(),
            },
        }
        if error is not None:
            frame[F_ERROR] = error.to_dict()
        self.send_frame(frame)

    # -- token lifetime (§12) ------------------------------------------------------------------------

    def _schedule_token_timers(self) -> None:
        """DISCONNECTED 40142 at expiry, as Ably does; the SDK then renews and resumes the connection.

        A long-lived token also gets an AUTH `token_renewal_lead_ms` before expiry, so the client can
        renew without a drop. Short tokens get none: an AUTH is a renewal the client cannot decline,
        and one holding only a token literal would fail (40171) while its token is still good.
        """
        state = self.state
        expires = state.credentials.expires_ms
        if expires is None:
            return
        remaining = expires - now_ms()
        state.schedule("token_expiry", remaining, self._token_expired)
        lead = conf.token_renewal_lead_ms()
        if remaining > lead * 2:
            state.schedule("token_renewal", remaining - lead, self._request_renewal)

    def _request_renewal(self) -> None:
        self.send_frame({F_ACTION: Action.AUTH})

    def _token_expired(self) -> None:
        self.drop_for_token_error(AblyError(ErrorCode.TOKEN_EXPIRED, 401, "Token expired"))

    def drop_for_token_error(self, error: AblyError) -> None:
        """DISCONNECTED with a 4014x error, then close: the SDK fetches a new token and resumes."""
        self.send_frame({F_ACTION: Action.DISCONNECTED, F_ERROR: error.to_dict()})
        asyncio.get_running_loop().create_task(self._close_socket())

    async def _reauthorise(self, frame: dict) -> None:
        token = read_access_token(frame)
        credentials = await database_sync_to_async(authenticate_realtime)(key=None, access_token=token)
        state = self.state
        client_id = resolve_client_id(credentials, state.client_id)
        if client_id != state.client_id:
            raise AblyError(ErrorCode.INCOMPATIBLE_CREDENTIALS, 401, "New token is for a different clientId")
        state.credentials = credentials
        await recheck_capabilities(self)
        self._schedule_token_timers()
        self._send_connected()

    # -- inbound -------------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Read one frame on arrival: size, parse, rate; answer a HEARTBEAT, queue anything else."""
        if self.state is None or self._closing:
            return
        if self._stopped_reading:
            self._refuse_while_leaving(text_data, bytes_data)
            return
        text_size = len((text_data or "").encode("utf-8", "surrogatepass"))
        size = len(bytes_data) if bytes_data is not None else text_size
        try:
            if size > conf.max_frame_size():
                raise AblyError(ErrorCode.MESSAGE_TOO_LARGE, 400, "Frame exceeds maxFrameSize")
            frame = self.codec.parse(text=text_data, data=bytes_data)
            action = read_action(frame)
            verdict = self.rate.admit(_weight(frame, action))
            if verdict is Verdict.FATAL:
                raise rate_exceeded_fatal(self.rate.rate)
            if action == Action.HEARTBEAT:
                self._answer_heartbeat(frame)
                return
            admitted = verdict is Verdict.ADMIT
            if not admitted and action in ACK_REQUIRED_ACTIONS:
                # Refused on arrival: keep only what the NACK needs, so a flood costs no memory.
                frame = {F_ACTION: action, F_MSG_SERIAL: frame.get(F_MSG_SERIAL)}
                size = 0
            self.intake.put(Inbound(frame, action, text_data is not None, admitted, size))
        except IntakeFull:
            await self._fail(rate_exceeded_fatal(self.rate.rate))
        except AblyError as error:
            await self._fail(error)
        except Exception:
            log.exception("unexpected error on connection %s", self.state.connection_id)
            await self._fail(AblyError(ErrorCode.INTERNAL, 500, "Internal error"))

    def _answer_heartbeat(self, frame: dict) -> None:
        ping_id = frame.get(F_ID)
        if ping_id is not None:
            self.send_frame({F_ACTION: Action.HEARTBEAT, F_ID: ping_id})

    async def _work(self) -> None:
        """Handle queued frames one at a time, in arrival order, until the connection closes."""
        while not self._closing:
            item = await self.intake.get()
            if self._closing:
                return
            if self._stopped_reading:
                self._refuse(item.frame, item.action)
                continue
            self._busy = True
            try:
                await self._handle(item)
            except AblyError as error:
                await self._fail(error)
            except Exception:
                log.exception("unexpected error on connection %s", self.state.connection_id)
                await self._fail(AblyError(ErrorCode.INTERNAL, 500, "Internal error"))
            finally:
                self._busy = False

    async def _handle(self, item: Inbound) -> None:
        frame, action = item.frame, item.action
        if action in ACK_REQUIRED_ACTIONS:
            msg_serial = read_msg_serial(frame)  # unreadable: nothing to NACK, so a fatal frame error
            if not item.admitted:
                self._reject(msg_serial, rate_exceeded(self.rate.rate))
                return
            try:
                self.codec.check(frame, is_json=item.is_json)
            except AblyError as error:
                self._reject(msg_serial, error)
                return
            await handle_ack_required(self, frame, action)
            return
        self.codec.check(frame, is_json=item.is_json)
        await self._dispatch(frame, action)

    def _reject(self, msg_serial: int, error: AblyError) -> None:
        """NACK a msgSerial without processing it; a retransmission still gets its first outcome."""
        outcome, is_new = self.state.outcome_for(msg_serial)
        if is_new:
            outcome.set_result(nack(msg_serial, error))
        self.acks.push(outcome)

    async def _dispatch(self, frame: dict, action: int) -> None:
        if action in (Action.ATTACH, Action.DETACH):
            channel = frame.get(F_CHANNEL)
            if not isinstance(channel, str):
                read_channel(frame)  # no channel to fail: a connection error
            try:
                check_channel_name(channel)
                await (attach if action == Action.ATTACH else detach)(self, channel, frame)
            except AblyError as error:
                await fail_channel(self, channel, error)
        elif action == Action.AUTH:
            await self._reauthorise(frame)
        elif action == Action.CLOSE:
            self.send_frame({F_ACTION: Action.CLOSED})
            await self._release(self.state, discard=True)
            await self._close_socket()
        elif action == Action.DISCONNECT:
            await self._close_socket()
        elif action in (Action.ACTIVATE, Action.SYNC):
            # Nothing to do: a client SYNC is meaningless to the server, and Ably ignores it.
            return
        else:
            raise AblyError(ErrorCode.BAD_REQUEST, 400, f"Unexpected protocol action {action}")

    async def _fail(self, error: AblyError) -> None:
        """A fatal connection error: tell the client (it goes FAILED), forget the state, close."""
        if self._closing:
            return
        self.intake.clear()
        self.send_frame({F_ACTION: Action.ERROR, F_ERROR: error.to_dict()})
        if self.state.transport is self:
            await self._release(self.state, discard=True)
        await self._close_socket()


async def _leave_presence(connection_id: str) -> None:
    for channel, members in roster.memberships_of(connection_id).items():
        await hub.broadcast_presence(channel, synthesized_leaves(members))
