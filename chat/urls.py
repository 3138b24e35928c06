from django.urls import path

from chat.views import ably_auth, agent, messages, pages, titles

app_name = "chat"

urlpatterns = [
    path("", pages.home, name="home"),
    path("c/new", pages.new_conversation, name="new"),
    path("search", pages.search_page, name="search"),
    path("c/<uuid:conversation_id>/", pages.conversation_page, name="conversation"),
    path("c/<uuid:conversation_id>/title", pages.title, name="title"),
    path("c/<uuid:conversation_id>/rename", pages.rename, name="rename"),
    path("c/<uuid:conversation_id>/title/suggest", titles.suggest, name="suggest-title"),
    path("c/<uuid:conversation_id>/delete", pages.delete, name="delete"),
    path("ably/token", ably_auth.token_request, name="ably-token"),
    path("agent/invoke", agent.invoke_agent, name="agent-invoke"),
    path(
        "c/<uuid:conversation_id>/messages/<str:codec_message_id>",
        messages.message_fragment,
        name="message",
    ),
    path(
        "c/<uuid:conversation_id>/runs/<str:run_id>/answer",
        messages.run_answer_fragment,
        name="run-answer",
    ),
]
