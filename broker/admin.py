"""Admin for the broker: API keys (create, revoke), issued tokens (revoke), channels, and a read-only
browser of stored messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from broker.auth.capability import Capability
from broker.auth.keys import fill_new_key, root_app_id
from broker.errors import AblyError
from broker.models import ApiKey, Channel, IssuedToken, StoredMessage
from broker.store.events import unpack


class ApiKeyForm(ModelForm):
    class Meta:
        model = ApiKey
        fields = ["app_id", "label", "capability"]

    def clean_capability(self) -> str:
        text = self.cleaned_data["capability"]
        try:
            Capability.parse(text)
        except AblyError as error:
            raise ValidationError(error.message) from None
        return text


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["key_name", "label", "capability", "created_at", "revoked_at"]
    list_filter = ["revoked_at", "app_id"]
    search_fields = ["app_id", "key_id", "label"]
    readonly_fields = ["key_string", "created_at", "revoked_at"]
    actions = ["revoke"]

    def get_changeform_initial_data(self, request) -> dict:
        return {"app_id": root_app_id()}

    def get_fields(self, request, obj=None) -> list[str]:
        return ["app_id", "label", "capability"] + (
            [] if obj is None else ["key_string", "created_at", "revoked_at"]
        )

    @admin.display(description="key (give this to the client)")
    def key_string(self, obj: ApiKey) -> str:
        return f"{obj.key_name}:{obj.secret}"

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if not change:
            fill_new_key(obj)
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke selected keys (their tokens stop working at once)")
    def revoke(self, request, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)


@admin.register(IssuedToken)
class IssuedTokenAdmin(admin.ModelAdmin):
    list_display = ["key_name", "client_id", "issued_ms", "expires_ms", "revoked_at"]
    list_filter = ["revoked_at", "key_name"]
    search_fields = ["client_id", "key_name"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset: QuerySet[IssuedToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "event_count", "last_serial", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["name", "event_count", "last_serial", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(StoredMessage)
class StoredMessageAdmin(admin.ModelAdmin):
    """A read-only browser of channel messages at their latest (rolled-up) version."""

    list_display = ["serial", "channel", "event_name", "client_id", "excerpt", "sent_at"]
    list_select_related = ["channel"]
    search_fields = ["channel__name", "serial", "message_id"]
    readonly_fields = ["channel", "serial", "message_id", "sent_at", "event_name", "client_id", "content"]
    exclude = ["payload", "timestamp_ms"]
    ordering = ["-id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="name")
    def event_name(self, obj: StoredMessage) -> str:
        return unpack(obj.payload).get("name") or ""

    @admin.display(description="clientId")
    def client_id(self, obj: StoredMessage) -> str:
        return unpack(obj.payload).get("clientId") or ""

    @admin.display(description="data")
    def excerpt(self, obj: StoredMessage) -> str:
        return Truncator(_printable(unpack(obj.payload).get("data"))).chars(80)

    @admin.display(description="message")
    def content(self, obj: StoredMessage) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", _printable(unpack(obj.payload)))

    @admin.display(description="timestamp")
    def sent_at(self, obj: StoredMessage) -> str:
        return datetime.fromtimestamp(obj.timestamp_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _printable(value) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return value
    return json.dumps(
        value, default=lambda v: f"<{len(v)} bytes>" if isinstance(v, bytes) else str(v), indent=1
    )
