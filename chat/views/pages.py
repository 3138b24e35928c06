"""Server-rendered pages: the conversation list, a conversation, rename and delete (htmx)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from chat import conversations
from chat.access import get_conversation_for
from chat.forms import RenameConversationForm
from chat.search import search_conversations
from chat.transcript import transcript_for

# The first question typed on the home page waits here until its conversation page sends it.
FIRST_MESSAGE_SESSION_KEY = "chat:first-message:{}"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/home.html")


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    results = search_conversations(request.user, query) if query else []
    return render(request, "chat/search.html", {"search_query": query, "results": results})


@require_POST
def new_conversation(request: HttpRequest) -> HttpResponse:
    conversation = conversations.start_conversation(request.user)
    first_message = request.POST.get("text", "").strip()
    if first_message:
        request.session[FIRST_MESSAGE_SESSION_KEY.format(conversation.id)] = first_message
    if request.htmx:
        return HttpResponseClientRedirect(conversation.get_absolute_url())
    return redirect(conversation)


@require_GET
def conversation_page(request: HttpRequest, conversation_id) -> HttpResponse:
    conversation = get_conversation_for(request.user, conversation_id)
    context = {
        "conversation": conversation,
        "transcript": transcript_for(conversation),
        # Popped: a reload must not send it twice.
        "first_message": request.session.pop(FIRST_MESSAGE_SESSION_KEY.format(conversation.id), ""),
    }
    return render(request, "chat/conversation.html", context)


@require_http_methods(["GET", "POST"])
def rename(request: HttpRequest, conversation_id) -> HttpResponse:
    """GET: the inline rename form; POST: save, answer the new title (and the sidebar entry, out of band)."""
    conversation = get_conversation_for(request.user, conversation_id)
    if request.method == "GET":
        form = RenameConversationForm(instance=conversation)
        return render(request, "chat/partials/rename_form.html", {"conversation": conversation, "form": form})
    form = RenameConversationForm(request.POST, instance=conversation)
    if not form.is_valid():
        return render(
            request,
            "chat/partials/rename_form.html",
            {"conversation": conversation, "form": form},
            status=422,
        )
    conversations.rename_conversation(conversation, form.cleaned_data["title"])
    if not request.htmx:
        return redirect(conversation)
    return render(request, "chat/partials/title_renamed.html", {"conversation": conversation})


@require_GET
def title(request: HttpRequest, conversation_id) -> HttpResponse:
    """The title block alone: what Cancel on the rename form swaps back in."""
    conversation = get_conversation_for(request.user, conversation_id)
    return render(request, "chat/partials/title.html", {"conversation": conversation})


@require_POST
def delete(request: HttpRequest, conversation_id) -> HttpResponse:
    conversation = get_conversation_for(request.user, conversation_id)
    conversations.delete_conversation(conversation)
    home_url = reverse("chat:home")
    if request.htmx:
        return HttpResponseClientRedirect(home_url)
    return redirect(home_url)
