"""Audit events: one structured JSON line per security event, never a secret."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import IO

from sspr.domain.ports import Clock, SystemClock

# Keys a caller may never put in an event, whatever it passes: a last line of defence.
_SECRET_KEYS = frozenset({"password", "new_password", "answer", "answers", "code", "token"})

ContextProvider = Callable[[], Mapping[str, str | None]]


class AuditLog:
    """Write audit events as JSON lines to one or more text streams."""

    def __init__(
        self,
        streams: list[IO[str]],
        *,
        clock: Clock | None = None,
        context: ContextProvider | None = None,
    ) -> None:
        self._streams = streams
        self._clock = clock or SystemClock()
        self._context = context
        self._lock = threading.Lock()

    def record(self, event: str, outcome: str, **fields: str | int | None) -> dict[str, object]:
        """Write one event; request fields (id, source IP) come from the context provider."""
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(self._clock.now(), UTC).isoformat(),
            "event": event,
            "outcome": outcome,
        }
        if self._context is not None:
            line.update(self._context())
        line.update((key, value) for key, value in fields.items() if key not in _SECRET_KEYS)
        text = json.dumps(line, ensure_ascii=False, sort_keys=True)
        with self._lock:
            for stream in self._streams:
                stream.write(text + "\n")
                stream.flush()
        return line
