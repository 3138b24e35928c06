"""Run Django's system checks when a server process starts (Daphne skips them)."""

import sys

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def fail_on_check_errors() -> None:
    """Raise with every error-level check message, so the server never starts half-configured.

    Warnings (e.g. DEBUG or the broker sandbox switched on) do not stop it but are printed loudly.
    """
    messages = checks.run_checks(include_deployment_checks=False)
    for warning in (m for m in messages if not m.is_serious() and not m.is_silenced()):
        hint = f" ({warning.hint})" if warning.hint else ""
        print(f"WARNING {warning.id}: {warning.msg}{hint}", file=sys.stderr, flush=True)
    problems = [m for m in messages if m.is_serious()]
    if problems:
        lines = "\n".join(f"  {m.id}: {m.msg}" + (f" ({m.hint})" if m.hint else "") for m in problems)
        raise ImproperlyConfigured(f"Refusing to start; fix the configuration:\n{lines}")
