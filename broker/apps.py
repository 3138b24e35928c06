from django.apps import AppConfig


class BrokerConfig(AppConfig):
    """The embedded Ably-compatible broker: an Ably endpoint, knowing nothing of chat."""

    name = "broker"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Embedded Ably broker"

    def ready(self) -> None:
        from broker import (
            checks,  # noqa: F401  (registers the broker's system checks)
            conf,
        )
        from broker.fanout import hub

        url = conf.redis_url()
        if url:
            from broker.bus import RedisBus

            hub.use_bus(RedisBus(url, prefix=conf.redis_prefix()))
