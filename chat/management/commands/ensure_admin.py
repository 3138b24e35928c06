"""Create the first admin account on a fresh install, and print its password once."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "If no user exists yet, create a superuser and print its generated password (only this once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where the app is served (printed)."
        )

    def handle(self, *args, username: str, url: str, **options) -> None:
        users = get_user_model()
        if users.objects.exists():
            self.stdout.write("Users already exist; no admin account created.")
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email="", password=password)
        banner = "=" * 64
        self.stdout.write(
            self.style.SUCCESS(
                f"{banner}\n First admin account created (shown only now, write it down):\n"
                f"   username: {username}\n   password: {password}\n"
                f" Log in at {url} ; add more users at {url.rstrip('/')}/admin/.\n{banner}"
            )
        )
