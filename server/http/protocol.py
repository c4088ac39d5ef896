"""What aiohttp's HTTP protocol handler is given: read timeouts and a quieter logger.

Passed as the application's ``handler_args``, so every runner of the app — ``quill
serve`` and the tests alike — serves it the same way.

- ``keepalive_timeout`` = ``server.request_read_seconds``: aiohttp closes a connection
  that has not delivered a complete request head by then, whether it is idle between
  requests or sending its headers slowly (a running handler, a WebSocket included, is
  never cut).  The body has its own deadline of the same length (server/http/body.py).
- ``lingering_time``: how long the rest of an unread body (after a 408 or 413) is
  drained before the connection closes.
- ``logger``: a request that breaks HTTP itself (a malformed request line, an 8 KiB URL,
  bad chunking) is answered by aiohttp with a plain 400 before the app sees it; that is
  the client's mistake, so it is logged as one warning line, not an error with a
  traceback.  Anything else aiohttp reports passes through unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

from server.config import Settings

_aiohttp_server = logging.getLogger("aiohttp.server")


class ClientErrorsQuiet(logging.LoggerAdapter[logging.Logger]):
    """``aiohttp.server``, with malformed requests logged as warnings, no traceback."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.warning(f"{msg}: %s", *args, exc_info.message, **kwargs)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)


def handler_args(settings: Settings) -> Mapping[str, Any]:
    seconds = settings.server.request_read_seconds
    return {
        "keepalive_timeout": seconds,
        "lingering_time": min(seconds, 10.0),
        "logger": ClientErrorsQuiet(_aiohttp_server, {}),
    }
