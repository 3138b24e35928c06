"""Run Django's system checks when a server process starts (Daphne skips them)."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def fail_on_check_errors() -> None:
    """Raise with every error-level check message, so the server never starts half-configured."""
    problems = [m for m in checks.run_checks(include_deployment_checks=False) if m.is_serious()]
    if problems:
        lines = "\n".join(f"  {m.id}: {m.msg}" + (f" ({m.hint})" if m.hint else "") for m in problems)
        raise ImproperlyConfigured(f"Refusing to start; fix the configuration:\n{lines}")
