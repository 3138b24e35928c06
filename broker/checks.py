"""System checks of the broker: settings that are fine for a developer and dangerous when served.

Both start quietly otherwise, which is the problem: `DEBUG` renders tracebacks (settings, local
variables) to whoever triggers an error and keeps every SQL query in memory, and the sandbox app
API hands a fresh API key to anyone who asks. Warnings, not errors: tests and local work use both.
`runbroker` and the ASGI start-up print them (see `project.startup_checks`).

`unapplied_migrations` is not a system check because `migrate` itself runs the checks first.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from broker import conf


@register(Tags.security)
def check_served_settings(app_configs=None, **kwargs) -> list[Warning]:
    warnings = []
    if settings.DEBUG:
        warnings.append(
            Warning(
                "DEBUG is on: error pages show tracebacks and settings, and SQL queries are kept in memory.",
                hint="Unset DJANGO_DEBUG (or set it to false) anywhere other users can reach.",
                id="broker.W001",
            )
        )
    if conf.sandbox_enabled():
        warnings.append(
            Warning(
                "BROKER_SANDBOX is on: POST /apps gives a new API key to anyone who can reach the broker.",
                hint="Only SDK test suites need it; unset BROKER_SANDBOX everywhere else.",
                id="broker.W002",
            )
        )
    return warnings


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Migrations not yet applied to the database ("app.name"); every one if it was never migrated."""
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
