"""How Tandem's processes log and trace: JSON lines, each carrying the request id that
also goes to the hub with every call made for that request (``X-Request-Id``).

The portal sets the id per request (its proxy's ``X-Request-Id`` if well-formed, else a
new one), the scheduler per job run (the run's id). :class:`directus.HubClient` sends it
with each call, so the balancer's and the hub's logs can be joined to the portal's.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

#: The request (or job run) being served in this context, if any.
REQUEST_ID: ContextVar[str | None] = ContextVar("tandem_request_id", default=None)
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def request_id_from(header: str | None) -> str:
    """A proxy's request id if well-formed (so it cannot forge log lines), else a new one."""
    if header and _WELL_FORMED.fullmatch(header):
        return header
    return uuid.uuid4().hex


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def configure(process: str, level: int = logging.INFO) -> None:
    """Log JSON lines to stderr: time, level, logger, message, process, request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_WithRequestId())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"process": process},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
