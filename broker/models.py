"""What the broker persists: keys, issued tokens, channels, messages and the channel event log.

Message bodies are stored as msgpack blobs because Ably data is either text or bytes, and msgpack
keeps that distinction (JSON would not) without a side channel.
"""

from __future__ import annotations

from django.db import models


class ApiKey(models.Model):
    """An API key besides the root key from ABLY_API_KEY: made in the admin or by the sandbox."""

    app_id = models.CharField(max_length=64, db_index=True)
    key_id = models.CharField(max_length=64)
    secret = models.CharField(max_length=128)
    capability = models.TextField(default='{"*":["*"]}', help_text='JSON, e.g. {"chat:*": ["subscribe"]}')
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app_id", "key_id"], name="broker_unique_key_name")]
        verbose_name = "API key"

    def __str__(self) -> str:
        return self.key_name

    @property
    def key_name(self) -> str:
        return f"{self.app_id}.{self.key_id}"


class IssuedToken(models.Model):
    """A token the broker issued. Only its hash is kept, so a database leak does not leak live tokens.

    The nonce of the signed TokenRequest it answered is kept too: that is how replays are refused.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    key_name = models.CharField(max_length=160, db_index=True)
    client_id = models.CharField(max_length=512, blank=True, help_text="Empty for an anonymous token")
    capability = models.TextField()
    nonce = models.CharField(max_length=256, blank=True, help_text="Empty when issued to Basic auth")
    issued_ms = models.BigIntegerField()
    expires_ms = models.BigIntegerField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key_name", "nonce"],
                condition=~models.Q(nonce=""),
                name="broker_unique_token_nonce",
            )
        ]

    def __str__(self) -> str:
        return f"token for {self.client_id or 'anonymous'} via {self.key_name}"


class Channel(models.Model):
    """A channel with traffic. Its last serial is the high-water mark new serials must exceed."""

    name = models.CharField(max_length=2048, unique=True)
    last_serial = models.CharField(max_length=80, blank=True)
    pruned_through = models.CharField(
        max_length=80, blank=True, help_text="Last channel serial removed by history retention."
    )
    event_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class StoredMessage(models.Model):
    """One message at its latest version (appends rolled up): what history and getMessage return."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    serial = models.CharField(max_length=80)
    message_id = models.CharField(max_length=512, blank=True)
    timestamp_ms = models.BigIntegerField()
    payload = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "serial"], name="broker_unique_message")]
        indexes = [models.Index(fields=["channel", "message_id"], name="broker_message_id")]

    def __str__(self) -> str:
        return self.serial


class ChannelEvent(models.Model):
    """One event in a channel's log: a create, update, delete or append, as a subscriber receives it.

    For create/update/delete `payload` is the whole message at that version (which makes these rows
    the message's version list); for an append it is only the appended fragment.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="events")
    channel_serial = models.CharField(max_length=80)
    message = models.ForeignKey(StoredMessage, on_delete=models.CASCADE, related_name="events")
    action = models.PositiveSmallIntegerField()
    payload = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "channel_serial"], name="broker_unique_channel_serial")
        ]

    def __str__(self) -> str:
        return self.channel_serial
