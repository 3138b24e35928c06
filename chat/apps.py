from django.apps import AppConfig


class ChatConfig(AppConfig):
    """The product: conversations with the AI agent, their runs and messages."""

    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chat import checks  # noqa: F401  (registers the configuration checks)
        from chat.agent.providers.checks import register_provider_checks

        register_provider_checks()
