from django.urls import path

from chat.views import ably_auth, pages

app_name = "chat"

urlpatterns = [
    path("", pages.home, name="home"),
    path("c/new", pages.new_conversation, name="new"),
    path("c/<uuid:conversation_id>/", pages.conversation_page, name="conversation"),
    path("c/<uuid:conversation_id>/title", pages.title, name="title"),
    path("c/<uuid:conversation_id>/rename", pages.rename, name="rename"),
    path("c/<uuid:conversation_id>/delete", pages.delete, name="delete"),
    path("ably/token", ably_auth.token_request, name="ably-token"),
]
