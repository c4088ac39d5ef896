"""Errors raised by Quill Arena code.

The tree::

    QuillError                 base of everything we raise on purpose
    ├── ConfigError            a bad configuration value; stops the process
    ├── MigrationError         schema behind the files, checksum drift, a failed file
    ├── EmbeddedServiceError   the embedded PostgreSQL or Redis did not start
    ├── ApiError               a request we refuse; carries HTTP status and error code
    │   ├── BadRequest         400 malformed or invalid input
    │   ├── Unauthorized       401 missing, bad or expired credentials
    │   ├── Forbidden          403 authenticated but not allowed
    │   ├── NotFound           404
    │   ├── Conflict           409 e.g. the handle is taken
    │   ├── PayloadTooLarge    413 body over the configured limit
    │   └── RateLimited        429 with a retry-after in seconds
    ├── InvalidTransition      the game engine refused an event in the current phase
    └── ProtocolError          a malformed or refused WebSocket frame (server/protocol/errors.py)
"""

from __future__ import annotations

from typing import Any


class QuillError(Exception):
    """Base class of the errors Quill Arena raises on purpose."""


class ConfigError(QuillError):
    """A configuration value is wrong; the message names key, value and expectation."""


class MigrationError(QuillError):
    """The schema cannot be brought to, or does not match, the migration files."""


class EmbeddedServiceError(QuillError):
    """An embedded PostgreSQL or Redis server failed to start or answer."""


class InvalidTransition(QuillError):
    """An event is not allowed in the match's current phase."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ApiError(QuillError):
    """A refused request: the HTTP status, a stable machine code and a human message."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details: dict[str, Any] = details or {}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, details: dict[str, Any] | None = None):
        super().__init__(message, details={**(details or {}), "retry_after": retry_after})
        self.retry_after = retry_after
