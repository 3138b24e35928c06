"""Database side effects of a run's lifecycle (synchronous; call through sync_to_async).

The database mirrors the channel: the run row follows the run's status, the user message
is the located input, and the assistant message keeps the text that was published. Every
state change that two processes could race for (claiming a queued run, taking over a dead
worker's run, ending a run) is one conditional UPDATE, so exactly one of them wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from chat.identity import user_pk_from_client_id
from chat.models import Conversation, Message, Run

OPEN_STATUSES = (Run.Status.ACTIVE, Run.Status.SUSPENDED)


def create_run(conversation: Conversation, owner, run_id: str, invocation_id: str) -> Run:
    """A queued run: open, but claimed by no worker yet (`claimed_at` is null)."""
    return Run.objects.create(
        run_id=run_id,
        invocation_id=invocation_id,
        conversation=conversation,
        owner=owner,
        heartbeat_at=timezone.now(),
    )


def claim_run(run_id: str, worker_id: str) -> bool:
    """Take a queued run for this worker; False if another delivery (or the reaper) got it first."""
    now = timezone.now()
    claimed = Run.objects.filter(run_id=run_id, claimed_at__isnull=True, status__in=OPEN_STATUSES).update(
        claimed_at=now, worker_id=worker_id, heartbeat_at=now
    )
    return claimed == 1


@transaction.atomic
def record_input(
    run_id: str, input_codec_message_id: str, text: str, assistant_codec_message_id: str, model_name: str
) -> None:
    """The user's message and an assistant placeholder (so concurrent runs keep their order)."""
    run = Run.objects.select_for_update().get(run_id=run_id)
    run.input_codec_message_id = input_codec_message_id
    run.model_name = model_name
    run.save(update_fields=["input_codec_message_id", "model_name"])
    Message.objects.get_or_create(
        conversation_id=run.conversation_id,
        codec_message_id=input_codec_message_id,
        defaults={"role": Message.Role.USER, "run": run, "text": text},
    )
    Message.objects.create(
        conversation_id=run.conversation_id,
        codec_message_id=assistant_codec_message_id,
        role=Message.Role.ASSISTANT,
        run=run,
        status=Message.Status.STREAMING,
        parent_id=input_codec_message_id,
    )
    Conversation.objects.filter(pk=run.conversation_id).update(updated_at=timezone.now())


@dataclass(frozen=True)
class RunEnd:
    """How a run ended. `text=None` keeps whatever text is stored (the last heartbeat's snapshot)."""

    reason: str
    text: str | None = None
    error_code: int | None = None
    error_message: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0


@transaction.atomic
def record_end(run_id: str, end: RunEnd) -> bool:
    """Final status of the run and its answer; ending an ended run changes nothing (returns False)."""
    run = Run.objects.select_for_update().get(run_id=run_id)
    if not run.is_open:
        return False
    run.status = end.reason
    run.end_reason = end.reason
    run.error_code = end.error_code
    run.error_message = end.error_message
    run.ended_at = timezone.now()
    run.prompt_tokens = end.prompt_tokens
    run.completion_tokens = end.completion_tokens
    run.save()
    message_status = (
        Message.Status.COMPLETE if end.reason == Run.Status.COMPLETE else Message.Status.CANCELLED
    )
    answers = Message.objects.filter(run=run, role=Message.Role.ASSISTANT)
    if end.text is not None:
        answers.update(text=end.text, status=message_status)
    else:
        answers.update(status=message_status)
    return True


def beat(snapshots: dict[str, str | None]) -> None:
    """Mark runs alive; a run with a text snapshot also stores the answer streamed so far.

    The snapshot is what the reaper keeps if this worker dies before recording the end.
    """
    if not snapshots:
        return
    now = timezone.now()
    Run.objects.filter(run_id__in=list(snapshots), status__in=OPEN_STATUSES).update(heartbeat_at=now)
    for run_id, text in snapshots.items():
        if text:
            Message.objects.filter(
                run__run_id=run_id, role=Message.Role.ASSISTANT, status=Message.Status.STREAMING
            ).update(text=text)


def runs_to_reap(silent_for: timedelta, unclaimed_for: timedelta) -> list[Run]:
    """Open runs whose worker stopped heartbeating, and queued runs no worker claimed in time."""
    now = timezone.now()
    open_runs = Run.objects.filter(status__in=OPEN_STATUSES).select_related("conversation", "owner")
    lost = open_runs.filter(claimed_at__isnull=False, heartbeat_at__lt=now - silent_for)
    unclaimed = open_runs.filter(claimed_at__isnull=True, started_at__lt=now - unclaimed_for)
    return [*lost, *unclaimed]


def take_over(run: Run, reaper_id: str) -> bool:
    """Claim a stale run for the reaper before it publishes anything; one reaper wins.

    The compare is on the heartbeat the reaper saw: a worker that beat since, or another
    reaper that took it over (which also sets the heartbeat), makes this a no-op.
    """
    taken = Run.objects.filter(pk=run.pk, status__in=OPEN_STATUSES, heartbeat_at=run.heartbeat_at).update(
        heartbeat_at=timezone.now(), worker_id=reaper_id, claimed_at=run.claimed_at or timezone.now()
    )
    return taken == 1


def stored_answer_text(run_id: str) -> str:
    """The assistant text stored for a run (its last snapshot while it streamed)."""
    texts = Message.objects.filter(run__run_id=run_id, role=Message.Role.ASSISTANT).values_list(
        "text", flat=True
    )
    return next(iter(texts), "")


def heartbeat_of(run_id: str) -> datetime | None:
    return Run.objects.filter(run_id=run_id).values_list("heartbeat_at", flat=True).first()


def client_is_staff(client_id: str | None) -> bool:
    pk = user_pk_from_client_id(client_id)
    if pk is None:
        return False
    return get_user_model().objects.filter(pk=pk, is_staff=True, is_active=True).exists()
