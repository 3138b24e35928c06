"""Transport errors carry AI Transport error codes so they can go on the wire as-is."""

from __future__ import annotations


class TransportError(Exception):
    def __init__(self, message: str, code: int, status_code: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"
