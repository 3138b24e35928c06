"""Admin for conversations, runs and messages: what an operator needs to see what happened."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from chat.models import Conversation, Message, Run
from chat.runs.stopping import stop_runs
from chat.transcript import transcript_for


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "message_count", "created_at", "updated_at"]
    list_filter = ["updated_at", "created_at"]
    search_fields = ["title", "owner__username", "owner__email", "id"]
    readonly_fields = ["id", "channel_name", "created_at", "updated_at", "transcript"]
    fields = ["id", "title", "owner", "channel_name", "created_at", "updated_at", "transcript"]
    raw_id_fields = ["owner"]
    date_hierarchy = "updated_at"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner").annotate(_messages=Count("messages"))

    @admin.display(description="messages", ordering="_messages")
    def message_count(self, obj: Conversation) -> int:
        return obj._messages

    @admin.display(description="channel")
    def channel_name(self, obj: Conversation) -> str:
        return obj.channel_name

    @admin.display(description="transcript")
    def transcript(self, obj: Conversation) -> str:
        return render_to_string("admin/chat/transcript.html", {"transcript": transcript_for(obj)})


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ["chat/admin.css"]}

    list_display = [
        "run_id",
        "conversation",
        "owner",
        "status",
        "end_reason",
        "model_name",
        "started_at",
        "ended_at",
        "completion_tokens",
    ]
    list_filter = ["status", "end_reason", "model_name", "started_at"]
    search_fields = [
        "run_id",
        "invocation_id",
        "input_codec_message_id",
        "conversation__title",
        "owner__username",
    ]
    readonly_fields = [
        "run_id",
        "invocation_id",
        "input_codec_message_id",
        "conversation",
        "owner",
        "started_at",
        "ended_at",
    ]
    list_select_related = ["conversation", "owner"]
    date_hierarchy = "started_at"
    actions = ["stop_selected_runs"]

    @admin.action(description="Stop selected runs")
    def stop_selected_runs(self, request, queryset) -> None:
        runs = list(queryset.select_related("conversation"))
        sent = stop_runs(runs, request.user, served_port_of(request))
        skipped = len(runs) - sent
        self.message_user(request, f"Stop sent for {sent} run(s); they end within moments.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} run(s) had already ended.", messages.WARNING)


def served_port_of(request) -> int | None:
    """The port this process serves on (the ASGI scope's server), not the proxy's."""
    try:
        return int(request.META.get("SERVER_PORT", ""))
    except ValueError:
        return None


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["excerpt", "role", "status", "conversation", "run_link", "created_at"]
    list_filter = ["role", "status", "created_at"]
    search_fields = ["text", "codec_message_id", "conversation__title"]
    readonly_fields = ["codec_message_id", "conversation", "run", "parent_id", "fork_of_id", "created_at"]
    list_select_related = ["conversation", "run"]

    @admin.display(description="text")
    def excerpt(self, obj: Message) -> str:
        return Truncator(obj.text).chars(80) or "(empty)"

    @admin.display(description="run")
    def run_link(self, obj: Message) -> str:
        if obj.run is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:chat_run_change", args=[obj.run.pk]), obj.run.run_id
        )
