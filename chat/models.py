"""Conversations, the agent runs inside them, and the messages they produce.

Protocol identifiers (run id, invocation id, codec-message-id) are stored verbatim so the
database and the Ably channel can always be joined; they are never re-minted here.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

CHANNEL_PREFIX = "ai:"


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, default="New conversation")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="conversation_sidebar")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("chat:conversation", kwargs={"conversation_id": self.id})

    @property
    def channel_name(self) -> str:
        """The Ably channel carrying this conversation's AI Transport session."""
        return f"{CHANNEL_PREFIX}{self.id}"


class Run(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        COMPLETE = "complete"
        CANCELLED = "cancelled"
        ERROR = "error"

    run_id = models.CharField(max_length=64, unique=True)
    invocation_id = models.CharField(max_length=64, db_index=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="runs")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    end_reason = models.CharField(max_length=16, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    input_codec_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker running it (for the reaper)."
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took the queued run (null = still queued)."
    )
    worker_id = models.CharField(
        max_length=200, blank=True, help_text="The worker (host:pid) or reaper that holds the run."
    )
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["conversation", "started_at"], name="run_by_conversation"),
            models.Index(fields=["status", "started_at"], name="run_by_status"),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.SUSPENDED)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"
        SYSTEM = "system"

    class Status(models.TextChoices):
        STREAMING = "streaming"
        COMPLETE = "complete"
        CANCELLED = "cancelled"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    codec_message_id = models.CharField(max_length=64)
    role = models.CharField(max_length=16, choices=Role.choices)
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    parent_id = models.CharField(max_length=64, blank=True, help_text="codec-message-id of the parent")
    fork_of_id = models.CharField(max_length=64, blank=True, help_text="codec-message-id this forks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "codec_message_id"], name="message_codec_id_unique"
            )
        ]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_transcript")]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"
