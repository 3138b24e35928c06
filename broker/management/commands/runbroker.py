"""`manage.py runbroker`: run the broker alone, as the one shared Ably endpoint of a team deployment."""

from __future__ import annotations

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.core.management.base import BaseCommand

from broker.management.standalone import broker_application
from project.startup_checks import fail_on_check_errors


class Command(BaseCommand):
    help = "Serve the Ably-compatible broker (REST and realtime WebSocket) on its own."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8080, help="Port to listen on (default 8080).")

    def handle(self, *args, host: str, port: int, **options) -> None:
        fail_on_check_errors()
        self.stdout.write(f"Broker listening on {host}:{port}")
        Server(
            application=broker_application(),
            endpoints=build_endpoint_description_strings(host=host, port=port),
        ).run()
