"""Audit events: one structured JSON line per security event, never a secret."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO

from sspr.domain.ports import Clock, SystemClock

# Keys a caller may never put in an event, whatever it passes: a last line of defence.
_SECRET_KEYS = frozenset({"password", "new_password", "answer", "answers", "code", "token"})

# Every line carries these, null when they do not apply, so the trail has one schema.
STANDARD_FIELDS = (
    "user_dn", "profile", "channel", "reason", "request_id", "source_ip", "agent"
)  # fmt: skip

ContextProvider = Callable[[], Mapping[str, str | None]]
# Called with each line once written (the metrics are built this way, outside the domain).
Observer = Callable[[Mapping[str, object]], None]

_logger = logging.getLogger(__name__)


class AuditLog:
    """Write audit events as JSON lines to one or more text streams."""

    def __init__(
        self,
        streams: list[IO[str]],
        *,
        clock: Clock | None = None,
        context: ContextProvider | None = None,
        observers: Sequence[Observer] = (),
    ) -> None:
        self._streams = streams
        self._clock = clock or SystemClock()
        self._context = context
        self._observers = tuple(observers)
        self._lock = threading.Lock()

    def record(self, event: str, outcome: str, **fields: str | int | None) -> dict[str, object]:
        """Write one event; request fields (id, source IP) come from the context provider."""
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(self._clock.now(), UTC).isoformat(),
            "event": event,
            "outcome": outcome,
            **dict.fromkeys(STANDARD_FIELDS),
        }
        if self._context is not None:
            line.update(self._context())
        line.update((key, value) for key, value in fields.items() if key not in _SECRET_KEYS)
        text = json.dumps(line, ensure_ascii=False, sort_keys=True)
        with self._lock:
            for stream in self._streams:
                stream.write(text + "\n")
                stream.flush()
        self._notify(line)
        return line

    def _notify(self, line: Mapping[str, object]) -> None:
        for observer in self._observers:
            try:
                observer(line)
            except Exception:
                # Counting an event must never undo it: the reset already happened.
                _logger.exception("audit observer failed on %s", line.get("event"))
