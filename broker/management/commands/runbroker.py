"""`manage.py runbroker`: run the broker alone, as the one shared Ably endpoint of a team deployment."""

from __future__ import annotations

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from broker.checks import unapplied_migrations
from broker.management.standalone import broker_application
from project.startup_checks import fail_on_check_errors


class Command(BaseCommand):
    help = "Serve the Ably-compatible broker (REST and realtime WebSocket) on its own."
    # fail_on_check_errors runs them: it prints the warnings loudly and refuses on errors.
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8080, help="Port to listen on (default 8080).")

    def handle(self, *args, host: str, port: int, **options) -> None:
        try:
            fail_on_check_errors()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        self._require_migrated()
        self.stdout.write(f"Broker listening on {host}:{port}")
        Server(
            application=broker_application(),
            endpoints=build_endpoint_description_strings(host=host, port=port),
        ).run()

    def _require_migrated(self) -> None:
        """Refuse to serve a database the broker's tables are missing from: every request would fail."""
        try:
            pending = unapplied_migrations()
        except DatabaseError as error:
            raise CommandError(f"Refusing to start: the database cannot be read ({error}).") from None
        if pending:
            shown = ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else "")
            raise CommandError(
                f"Refusing to start: the database has {len(pending)} unapplied migration(s) ({shown}). "
                "Run `manage.py migrate` first."
            )
