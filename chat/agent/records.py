"""Database side effects of a run's lifecycle (synchronous; call through sync_to_async).

The database mirrors the channel: the run row follows the run's status, the user message
is the located input, and the assistant message keeps exactly the text that was published.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from chat.identity import user_pk_from_client_id
from chat.models import Conversation, Message, Run


def create_run(conversation: Conversation, owner, run_id: str, invocation_id: str) -> Run:
    return Run.objects.create(
        run_id=run_id,
        invocation_id=invocation_id,
        conversation=conversation,
        owner=owner,
        heartbeat_at=timezone.now(),
    )


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


@transaction.atomic
def record_end(
    run_id: str,
    reason: str,
    text: str | None = None,
    error_code: int | None = None,
    error_message: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
) -> None:
    """Final status of the run and its answer; ending an ended run changes nothing."""
    run = Run.objects.select_for_update().get(run_id=run_id)
    if not run.is_open:
        return
    run.status = reason
    run.end_reason = reason
    run.error_code = error_code
    run.error_message = error_message
    run.ended_at = timezone.now()
    run.prompt_tokens = prompt_tokens
    run.completion_tokens = completion_tokens
    run.save()
    message_status = Message.Status.COMPLETE if reason == Run.Status.COMPLETE else Message.Status.CANCELLED
    answers = Message.objects.filter(run=run, role=Message.Role.ASSISTANT)
    if text is not None:
        answers.update(text=text, status=message_status)
    else:
        answers.update(status=message_status)


def beat(run_ids: list[str]) -> None:
    if run_ids:
        Run.objects.filter(run_id__in=run_ids).update(heartbeat_at=timezone.now())


def stale_runs(older_than: timedelta) -> list[Run]:
    cutoff = timezone.now() - older_than
    open_statuses = [Run.Status.ACTIVE, Run.Status.SUSPENDED]
    return list(
        Run.objects.filter(status__in=open_statuses, heartbeat_at__lt=cutoff).select_related(
            "conversation", "owner"
        )
    )


def client_is_staff(client_id: str | None) -> bool:
    pk = user_pk_from_client_id(client_id)
    if pk is None:
        return False
    return get_user_model().objects.filter(pk=pk, is_staff=True, is_active=True).exists()
