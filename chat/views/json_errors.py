"""The JSON error body of the app's API endpoints (`/ably/token`, `/agent/invoke`)."""

from __future__ import annotations

from django.http import JsonResponse


def json_error(status: int, message: str) -> JsonResponse:
    """An error shaped like Ably's ErrorInfo, so ably-js and scripts read it the same way."""
    return JsonResponse({"error": {"statusCode": status, "message": message}}, status=status)
