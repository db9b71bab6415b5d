"""A private slapd (Debian's package) for the demo and the tests: ppolicy on, real ACLs."""

from __future__ import annotations

import atexit
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from sspr.demo.slapd_config import (
    SlapdError,
    base_ldif,
    config_ldif,
    ldif_attr,
    ssha,
    sspr_schema_ldif,
)
from sspr.demo.tls import make_certificates

__all__ = ["Slapd", "SlapdError", "free_port", "ldif_attr", "ssha", "sspr_schema_ldif"]

SLAPD = "/usr/sbin/slapd"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Slapd:
    """One slapd process listening on ldap://127.0.0.1:PORT, with its data in `workdir`."""

    def __init__(
        self,
        workdir: Path,
        *,
        suffix: str = "dc=example,dc=org",
        port: int | None = None,
        tls: bool = False,
        member_of: bool = False,
    ) -> None:
        self.workdir = Path(workdir)
        self.suffix = suffix
        self.port = port or free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        # With tls, a private CA signs a certificate for 127.0.0.1: StartTLS on `url`,
        # and ldaps:// on a second port.
        self.tls = tls
        # The memberOf overlay: groups added later write memberOf on their members.
        self.member_of = member_of
        self.ldaps_url = f"ldaps://127.0.0.1:{free_port()}" if tls else None
        self.ca_file = self.workdir / "tls" / "ca.pem" if tls else None
        self.root_dn = f"cn=admin,{suffix}"
        self.root_password = secrets.token_urlsafe(18)
        self.service_dn = f"cn=sspr,ou=services,{suffix}"
        self.service_password = secrets.token_urlsafe(18)
        self._process: subprocess.Popen[bytes] | None = None
        # A crashed caller must not leave an orphan slapd behind.
        atexit.register(self.stop)

    @property
    def pid(self) -> int | None:
        """The running slapd's process id, for tests that pause it."""
        return self._process.pid if self._process else None

    def start(self, seed_ldif: str = "") -> None:
        """Build a fresh configuration and database, load `seed_ldif`, and serve."""
        self.stop()
        self._provision(seed_ldif)
        self._launch()

    def stop(self) -> None:
        """Stop slapd gracefully, killing it if it lingers; safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop and serve again on the same port and data."""
        self.stop()
        self._launch()

    def add(self, ldif: str) -> None:
        """Add entries as the rootDN."""
        self._tool("ldapadd", input_text=ldif)

    def modify(self, ldif: str, *, relax: bool = False) -> None:
        """Apply an LDIF of changes as the rootDN.

        `relax` sends the Relax Rules control, with which the rootDN may write operational
        attributes such as pwdChangedTime (to age a password in tests, for instance).
        """
        self._tool("ldapmodify", *(("-e", "relax") if relax else ()), input_text=ldif)

    def search(self, base: str, filt: str, *attrs: str) -> str:
        """Return ldapsearch's unwrapped LDIF; ask for "+" or names to see operational ones."""
        return self._tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", base, filt, *attrs)

    def __enter__(self) -> Slapd:
        """Start with no seed beyond the base entries."""
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def _provision(self, seed_ldif: str) -> None:
        """Write cn=config and the database from scratch with slapadd."""
        for name in ("slapd.d", "data"):
            shutil.rmtree(self.workdir / name, ignore_errors=True)
            (self.workdir / name).mkdir(parents=True)
        self._password_file.write_text(self.root_password, encoding="utf-8")
        self._password_file.chmod(0o600)
        if self.tls:
            make_certificates(self.workdir / "tls")
        self._slapadd("-n0", config_ldif(self))
        self._slapadd("-b", self.suffix, base_ldif(self) + "\n" + seed_ldif)

    def _slapadd(self, *args_and_ldif: str) -> None:
        """Run slapadd offline on this instance's configuration."""
        *args, ldif = args_and_ldif
        command = ["slapadd", "-q", "-F", str(self.workdir / "slapd.d"), *args]
        result = subprocess.run(command, input=ldif.encode(), capture_output=True, check=False)
        if result.returncode != 0:
            raise SlapdError(f"slapadd {' '.join(args)} failed: {_text(result.stderr)}")

    def _launch(self) -> None:
        """Run slapd in the foreground and wait until it answers a search."""
        log = self.workdir / "slapd.log"
        with log.open("ab") as log_file:
            # Any -d keeps slapd in the foreground (no fork), so we own its pid;
            # "none" logs only the errors that explain a failed start (0 logs nothing).
            self._process = subprocess.Popen(
                [SLAPD, "-d", "none", "-F", str(self.workdir / "slapd.d"), "-h", self._listeners],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._wait_ready(self._process, log)

    def _wait_ready(self, process: subprocess.Popen[bytes], log: Path) -> None:
        """Poll with a real search until slapd answers, or fail with its log."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                raise SlapdError(f"slapd exited at start-up:\n{_tail(log)}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise SlapdError(f"slapd did not answer within {START_TIMEOUT} s:\n{_tail(log)}")

    def _answers(self) -> bool:
        """Tell whether slapd serves the suffix yet."""
        try:
            self._tool(
                "ldapsearch",
                "-o",
                "nettimeout=1",
                "-s",
                "base",
                "-b",
                self.suffix,
                "1.1",
                timeout=2,
            )
        except SlapdError:
            return False
        return True

    @property
    def _listeners(self) -> str:
        return " ".join(f"{url}/" for url in (self.url, self.ldaps_url) if url)

    @property
    def _password_file(self) -> Path:
        return self.workdir / "rootpw"

    def _tool(
        self, tool: str, *args: str, input_text: str | None = None, timeout: float = 30
    ) -> str:
        """Run an ldap-utils tool as the rootDN; the password travels in a file, not argv."""
        command = [tool, "-x", "-H", self.url, "-D", self.root_dn, "-y", str(self._password_file)]
        try:
            result = subprocess.run(
                [*command, *args],
                input=input_text.encode() if input_text is not None else None,
                capture_output=True,
                check=False,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise SlapdError(f"{tool} got no answer within {timeout} s") from exc
        if result.returncode != 0:
            raise SlapdError(f"{tool} failed ({result.returncode}): {_text(result.stderr)}")
        return _text(result.stdout)


def _text(output: bytes) -> str:
    return output.decode("utf-8", errors="replace").strip()


def _tail(log: Path, lines: int = 40) -> str:
    """The end of slapd's log, which says why it failed."""
    try:
        return "\n".join(log.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
