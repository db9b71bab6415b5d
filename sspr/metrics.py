"""Prometheus metrics, built from audit events and directory latencies (the domain is untouched).

Each application has its own CollectorRegistry, so tests can build many apps. With several
workers, PROMETHEUS_MULTIPROC_DIR set before prometheus_client is imported (`sspr serve`
does it) makes /metrics add up every worker's values through MultiProcessCollector; without
it, each worker counts alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from sspr.domain.audit import AuditEvent, AuditRecord, Outcome

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Directory operations take milliseconds; the top buckets catch a failing-over server.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
UNKNOWN = "unknown"


class Metrics:
    """The counters and the latency histogram of one application."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.resets_started = self._counter(
            "sspr_resets_started",
            "Reset flows started (identify submitted)",
            ["profile", "directory"],
        )
        self.resets_completed = self._counter(
            "sspr_resets_completed",
            "Passwords written at the end of a reset",
            ["profile", "channel", "directory"],
        )
        self.proofs_failed = self._counter(
            "sspr_proofs_failed",
            "Failed proofs (wrong answer, wrong code…)",
            ["reason", "directory"],
        )
        self.codes_sent = self._counter(
            "sspr_codes_sent", "Codes handed to SMTP or Twilio", ["channel"]
        )
        self.rate_limit_hits = self._counter(
            "sspr_rate_limit_hits",
            "Blocks: an account's failed proofs used up, or a per-source or destination limit",
            ["kind"],
        )
        self.breach_checks = self._counter(
            "sspr_breach_checks",
            "Range service verdicts on new passwords (clean, breached, unavailable_allowed, "
            "unavailable_blocked)",
            ["outcome"],
        )
        self.audit_trail_failures = Counter(
            "sspr_audit_trail_failures",
            "Audit writes the store's shared trail missed (the file and stdout have them)",
            registry=self.registry,
        )
        self.directory_latency = Histogram(
            "sspr_directory_operation_seconds",
            "Time the directory took for one operation, reconnects included",
            ["operation", "directory"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def _counter(self, name: str, documentation: str, labels: list[str]) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def observe_latency(self, operation: str, seconds: float, directory: str = "default") -> None:
        """The LdapDirectory on_latency hook (of the one directory, named "default")."""
        self.directory_latency.labels(operation=operation, directory=directory).observe(seconds)

    def latency_hook(self, directory: str) -> Callable[[str, float], None]:
        """The on_latency hook of one named directory."""
        return lambda operation, seconds: self.observe_latency(operation, seconds, directory)

    def observe_event(self, record: AuditRecord) -> None:
        """The AuditLog observer: one audit event may move one counter."""
        profile, directory = _label(record.profile), _label(record.directory)
        match record.event:
            case AuditEvent.RESET_REQUESTED:
                self.resets_started.labels(profile=profile, directory=directory).inc()
            case AuditEvent.PASSWORD_CHANGED if record.outcome is Outcome.SUCCESS:
                # The line names the flow's proofs ("email+sms"): no store round trip.
                self.resets_completed.labels(profile, _label(record.channel), directory).inc()
            case AuditEvent.PROOF_FAILED:
                self.proofs_failed.labels(reason=_label(record.cause), directory=directory).inc()
            case AuditEvent.CODE_SENT if record.outcome is Outcome.SUCCESS:
                self.codes_sent.labels(channel=_label(record.channel)).inc()
            case AuditEvent.PASSWORD_BREACH_CHECKED:
                self.breach_checks.labels(outcome=record.outcome.value).inc()
            case AuditEvent.ACCOUNT_BLOCKED | AuditEvent.RATELIMIT_HIT:
                self.rate_limit_hits.labels(kind=_label(record.cause)).inc()


def _label(value: str | None) -> str:
    return value or UNKNOWN


def exposition(registry: CollectorRegistry) -> bytes:
    """The text format of this process's registry, or of every worker's in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        # A fresh registry per scrape, as prometheus_client documents: it reads the files.
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return generate_latest(combined)
    return generate_latest(registry)
