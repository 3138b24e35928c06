"""Apply the history retention (`BROKER_HISTORY_RETENTION_HOURS`); run it from cron or a timer."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from broker import conf
from broker.store.retention import prune_history


class Command(BaseCommand):
    help = "Delete channel history older than BROKER_HISTORY_RETENTION_HOURS (or --hours)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hours", type=float, default=None, help="Override the configured retention.")

    def handle(self, *args, hours: float | None, **options) -> None:
        retention = conf.history_retention_hours() if hours is None else hours
        if retention <= 0:
            self.stdout.write("Retention is 0 (keep forever); nothing removed.")
            return
        removed = prune_history(retention)
        self.stdout.write(f"Removed {removed} stored message(s) older than {retention:g} h.")
