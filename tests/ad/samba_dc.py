"""A throw-away Samba AD domain controller (Debian's samba-ad-dc) for the AD tests."""

from __future__ import annotations

import atexit
import hashlib
import os
import random
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from ldap3 import MODIFY_ADD, MODIFY_REPLACE, NONE, SIMPLE, Connection, Server, Tls
from ldap3.protocol.formatters.formatters import format_sid

from sspr.demo.tls import make_certificates

SAMBA = "/usr/sbin/samba"
SAMBA_TOOL = "/usr/bin/samba-tool"
LDBMODIFY = "/usr/bin/ldbmodify"
SETPRIV = "/usr/bin/setpriv"
SCHEMA_LDIF = Path(__file__).resolve().parents[2] / "config" / "ldap" / "ad-schema.ldif"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# The ports Samba listens on with "server services = ldap": LDAP, LDAPS, global catalog.
PORTS = (389, 636, 3268, 3269)
# Samba may bind any 127.0.0.0/8 address, so each test run takes one of its own and
# several runs (several engineers, or CI jobs) share a host without fighting over 389/636.
ADDRESS_POOL = [f"127.0.0.{last}" for last in range(100, 255)]
# Bump when what _provision or _extend_schema does changes: cached domains are then ignored.
_CACHE_FORMAT = b"1"

# Well-known schemaIDGUIDs of the attributes the service account writes, for its ACEs.
USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"
RESET_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"
WRITABLE_ATTRIBUTES = {
    "lockoutTime": "28630ebf-41d5-11d1-a9c1-0000f80367c1",
    "pwdLastSet": "bf967a0a-0de6-11d0-a285-00aa003049e2",
    "mobile": "f0f8ffa3-1191-11d0-a060-00aa006c33ed",
    "mail": "bf967961-0de6-11d0-a285-00aa003049e2",
    "objectClass": "bf9679e5-0de6-11d0-a285-00aa003049e2",
    "ssprRecoveryAnswer": "380cc679-2536-4717-9e9e-6a33fb444652",
    "ssprReminderSnoozedUntil": "ab70eecb-fd31-47bb-9eb1-624cda7775f9",
}
CONFIDENTIAL_ATTRIBUTES = {"ssprRecoveryAnswer": WRITABLE_ATTRIBUTES["ssprRecoveryAnswer"]}


class SambaError(RuntimeError):
    """Samba or one of its tools failed; the message holds their output."""


def samba_missing() -> str | None:
    """Why a DC cannot run on this host, or None when it can."""
    for tool in (SAMBA, SAMBA_TOOL, LDBMODIFY, SETPRIV):
        if not Path(tool).exists():
            return f"{tool} is missing: run scripts/dev (it installs samba-ad-dc and ldb-tools)"
    if os.geteuid() != 0:
        return "a Samba AD DC runs as root only (it checks), and these tests are not root"
    return None


def free_address() -> str:
    """A loopback address whose AD ports are all free right now."""
    for address in random.sample(ADDRESS_POOL, len(ADDRESS_POOL)):
        if all(_port_free(address, port) for port in PORTS):
            return address
    raise SambaError("no 127.0.0.x address has ports 389, 636, 3268 and 3269 free")


def _port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def filetime(seconds_since_epoch: float) -> int:
    """AD's FILETIME: 100 ns ticks since 1601-01-01 UTC."""
    return int((seconds_since_epoch + 11_644_473_600) * 10_000_000)


def ad_interval(seconds: float) -> str:
    """A domain or PSO duration as AD writes it: negative 100 ns ticks."""
    return str(-int(seconds * 10_000_000))


class SambaDC:
    """One Samba AD DC serving LDAP and LDAPS on its own loopback address."""

    realm = "SSPR.TEST"
    netbios_domain = "SSPR"
    base_dn = "DC=sspr,DC=test"

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.address = free_address()
        self.url = f"ldaps://{self.address}"
        self.ldap_url = f"ldap://{self.address}"
        self.ca_file = self.workdir / "tls" / "ca.pem"
        self.admin_dn = f"CN=Administrator,CN=Users,{self.base_dn}"
        self.admin_password = "Adm-" + secrets.token_urlsafe(12) + "9a"
        self.unit = f"OU=sspr,{self.base_dn}"
        self.service_dn = f"CN=sspr-svc,{self.unit}"
        self.service_password = "Svc-" + secrets.token_urlsafe(12) + "9a"
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Provision a fresh domain, extend its schema, serve, and seed the sspr units."""
        self.stop()
        shutil.rmtree(self.workdir / "dc", ignore_errors=True)
        make_certificates(self.workdir / "tls", self.address)
        (self.workdir / "tls" / "server.key").chmod(0o600)
        if not self._restore():
            self._provision()
            self._extend_schema()
            self._keep()
        # Ours replaces the generated smb.conf: everything stays under the work dir.
        self._smb_conf.write_text(self._smb_conf_text(), encoding="utf-8")
        self._launch()
        self._seed()

    def stop(self) -> None:
        """Stop the root process (it takes its process group down), by PID; safe twice."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Samba leads its own process group: whatever of it is left goes with it.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    @property
    def pid(self) -> int | None:
        """The PID of "samba: root process" (the name it gives itself once started)."""
        return self._process.pid if self._process else None

    # -- what tests use ------------------------------------------------------------------

    def connect(self, dn: str | None = None, password: str | None = None) -> Connection:
        """A connection over LDAPS, bound as `dn` (the Administrator by default)."""
        conn = self.connection(dn or self.admin_dn, password or self.admin_password)
        if not conn.bind():
            raise SambaError(f"bind as {dn or self.admin_dn} refused: {conn.result}")
        return conn

    def connection(self, dn: str, password: str) -> Connection:
        """An unbound LDAPS connection that checks the DC's certificate against our CA."""
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_file))
        server = Server(self.url, get_info=NONE, tls=tls, connect_timeout=5)
        exact: object = password.encode("utf-8")  # bytes: ldap3 leaves them as typed
        return Connection(
            server, user=dn, password=exact, authentication=SIMPLE, raise_exceptions=False
        )

    def bind_result(self, dn: str, password: str) -> tuple[bool, str]:
        """Bind as a user: (whether it worked, the server's diagnostic with AD's data code)."""
        conn = self.connection(dn, password)
        try:
            return bool(conn.bind()), str(conn.result.get("message", ""))
        finally:
            with suppress(Exception):
                conn.unbind()

    def read(self, dn: str, *attributes: str) -> dict[str, list[str]]:
        """Read attributes as the Administrator, as text, for assertions."""
        conn = self.connect()
        try:
            conn.search(dn, "(objectClass=*)", "BASE", attributes=list(attributes))
            if not conn.response:
                raise SambaError(f"no entry {dn}: {conn.result}")
            raw = conn.response[0]["raw_attributes"]
            return {name: [value.decode() for value in raw.get(name, [])] for name in attributes}
        finally:
            conn.unbind()

    def modify(self, dn: str, changes: dict[str, list[object]]) -> None:
        """Apply an ldap3 modify as the Administrator, or fail with the server's message."""
        conn = self.connect()
        try:
            if not conn.modify(dn, changes):
                raise SambaError(f"modify {dn}: {conn.result}")
        finally:
            conn.unbind()

    def add(self, dn: str, object_class: str | list[str], attributes: dict[str, object]) -> None:
        """Add an entry as the Administrator, or fail with the server's message."""
        conn = self.connect()
        try:
            if not conn.add(dn, object_class, attributes):
                raise SambaError(f"add {dn}: {conn.result}")
        finally:
            conn.unbind()

    # -- provisioning --------------------------------------------------------------------

    @property
    def _dc(self) -> Path:
        return self.workdir / "dc"

    @property
    def _smb_conf(self) -> Path:
        return self._dc / "etc" / "smb.conf"

    def _provision(self) -> None:
        self._dc.mkdir(parents=True)
        self._run(
            SAMBA_TOOL, "domain", "provision",
            f"--realm={self.realm}", f"--domain={self.netbios_domain}",
            "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307",
            f"--adminpass={self.admin_password}", f"--targetdir={self._dc}",
            "--option=server services = ldap",
        )  # fmt: skip

    def _cache(self) -> Path:
        """Where a provisioned, schema-extended domain is kept between test sessions.

        Provisioning costs 5 to 30 s depending on the host's load: a fresh copy of the
        same domain, made for this Samba version and this schema, costs well under one.
        """
        version = subprocess.run([SAMBA, "-V"], capture_output=True, check=False).stdout
        key = hashlib.sha256(version + SCHEMA_LDIF.read_bytes() + _CACHE_FORMAT).hexdigest()
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return root / "sspr" / f"samba-dc-{key[:16]}"

    def _restore(self) -> bool:
        cache = self._cache()
        if not (cache / "admin-password").is_file():
            return False
        shutil.copytree(cache / "dc", self._dc, symlinks=True)
        self.admin_password = (cache / "admin-password").read_text("utf-8")
        return True

    def _keep(self) -> None:
        """Copy the fresh domain to the cache; a rename makes it appear whole or not at all."""
        cache = self._cache()
        staging = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        with suppress(OSError):
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(self._dc, staging / "dc", symlinks=True)
            (staging / "admin-password").write_text(self.admin_password, encoding="utf-8")
            (staging / "admin-password").chmod(0o600)
            staging.rename(cache)
        shutil.rmtree(staging, ignore_errors=True)

    def _smb_conf_text(self) -> str:
        dc, tls = self._dc, self.workdir / "tls"
        settings = {
            "netbios name": "SSPRDC",
            "realm": self.realm,
            "workgroup": self.netbios_domain,
            "server role": "active directory domain controller",
            # LDAP only: no KDC (88), SMB, DNS or RPC, which the tests do not use.
            "server services": "ldap",
            # An address/prefix is taken as given, even though lo carries only 127.0.0.1.
            "interfaces": f"{self.address}/8",
            "bind interfaces only": "yes",
            "prefork children": "2",
            "private dir": dc / "private",
            "state directory": dc / "state",
            "cache directory": dc / "cache",
            "lock directory": dc,
            "pid directory": dc,
            "binddns dir": dc / "bind-dns",
            "log file": dc / "samba.log",
            "logging": "file",
            "log level": "1",
            # Else the old password keeps binding for 60 minutes after a change or reset.
            "old password allowed period": "0",
            "tls enabled": "yes",
            "tls keyfile": tls / "server.key",
            "tls certfile": tls / "server.pem",
            "tls cafile": tls / "ca.pem",
            # Simple binds and password writes only over TLS, as on a hardened Windows DC.
            "ldap server require strong auth": "yes",
        }
        lines = ["[global]", *(f"\t{key} = {value}" for key, value in settings.items())]
        return "\n".join(lines) + "\n"

    def _extend_schema(self) -> None:
        """Load config/ldap/ad-schema.ldif into the local sam.ldb, one schema update at a time.

        ldbmodify reads the schema once: a class naming new attributes must come in a later
        run than the attributes (ldifde and a live DC honour schemaUpdateNow instead).
        """
        text = SCHEMA_LDIF.read_text("utf-8").replace("DC=X", self.base_dn)
        for number, chunk in enumerate(_schema_chunks(text)):
            path = self._dc / f"schema-{number}.ldif"
            path.write_text(chunk, encoding="utf-8")
            self._run(
                LDBMODIFY, "-H", str(self._dc / "private" / "sam.ldb"),
                "--option=dsdb:schema update allowed=true", str(path),
            )  # fmt: skip

    def _launch(self) -> None:
        log = self._dc / "stdout.log"
        with log.open("ab") as log_file:
            # -F: no fork, so the PID is ours; it renames itself "samba: root process".
            # setpriv (util-linux) asks for SIGTERM when the test process dies, then execs
            # samba in place: no DC outlives a killed test run.
            self._process = subprocess.Popen(
                [SETPRIV, "--pdeathsig", "TERM", "--", SAMBA, "-s", str(self._smb_conf), "-F"],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise SambaError(f"samba exited at start-up:\n{self._tail()}")
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise SambaError(f"samba did not answer LDAPS within {START_TIMEOUT} s:\n{self._tail()}")

    def _answers(self) -> bool:
        try:
            conn = self.connection(self.admin_dn, self.admin_password)
            ok = bool(conn.bind())
            conn.unbind()
        except Exception:  # not listening yet, or TLS not up yet
            return False
        return ok

    def _seed(self) -> None:
        """The domain policy, the sspr units, the service account and its delegated rights."""
        self.modify(
            self.base_dn,
            {
                # A user may change a password at once (the default waits a day).
                "minPwdAge": [(MODIFY_REPLACE, ["0"])],
                "lockoutThreshold": [(MODIFY_REPLACE, ["5"])],
                "lockoutDuration": [(MODIFY_REPLACE, [ad_interval(1800)])],
                "lockOutObservationWindow": [(MODIFY_REPLACE, [ad_interval(1800)])],
            },
        )
        for unit in (self.unit, *(f"OU={ou},{self.unit}" for ou in ("people", "staff", "groups"))):
            self.add(unit, "organizationalUnit", {})
        self.add(
            self.service_dn,
            "user",
            {
                "sAMAccountName": "sspr-svc",
                "unicodePwd": f'"{self.service_password}"'.encode("utf-16-le"),
                # NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
                "userAccountControl": "66048",
            },
        )
        self.delegate(self.unit, self.sid(self.service_dn))

    def age_password(self, dn: str, *, days: float) -> None:
        """Make the password `days` old, which no LDAP client may do (pwdLastSet takes 0 or -1).

        Written straight into the domain partition's backend, below the module that guards
        pwdLastSet; the running DC reads the new value at the next bind.
        """
        partition = self._dc / "private" / "sam.ldb.d" / f"{self.base_dn.upper()}.ldb"
        ldif = (
            f"dn: {dn}\nchangetype: modify\nreplace: pwdLastSet\n"
            f"pwdLastSet: {filetime(time.time() - days * 86400)}\n"
        )
        result = subprocess.run(
            [LDBMODIFY, "-H", str(partition)], input=ldif.encode(), capture_output=True, check=False
        )
        if result.returncode != 0:
            raise SambaError(f"ldbmodify pwdLastSet failed: {result.stderr.decode()}")

    def sid(self, dn: str) -> str:
        """An entry's objectSid in S-1-5-… form."""
        conn = self.connect()
        try:
            conn.search(dn, "(objectClass=*)", "BASE", attributes=["objectSid"])
            return str(format_sid(conn.response[0]["raw_attributes"]["objectSid"][0]))
        finally:
            conn.unbind()

    def delegate(self, unit: str, sid: str) -> None:
        """Give `sid` sspr's rights on the users under `unit`, as docs/active-directory.md."""
        self._run(
            SAMBA_TOOL, "dsacl", "set", "-s", str(self._smb_conf),
            "-H", str(self._dc / "private" / "sam.ldb"),
            f"--objectdn={unit}", f"--sddl={service_sddl(sid)}",
        )  # fmt: skip

    def _run(self, *command: str) -> str:
        result = subprocess.run(command, capture_output=True, check=False, timeout=120)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode("utf-8", errors="replace")
            raise SambaError(f"{Path(command[0]).name} {command[1]} failed:\n{output[-3000:]}")
        return result.stdout.decode("utf-8", errors="replace")

    def _tail(self, lines: int = 40) -> str:
        texts = []
        for name in ("stdout.log", "samba.log"):
            with suppress(OSError):
                texts += (self._dc / name).read_text("utf-8", errors="replace").splitlines()
        return "\n".join(texts[-lines:])


def service_sddl(sid: str) -> str:
    """The ACEs of the sspr service account, inherited by the user objects below the unit."""
    aces = [f"(OA;CIIO;CR;{RESET_PASSWORD};{USER_CLASS};{sid})"]
    aces += [f"(OA;CIIO;RPWP;{guid};{USER_CLASS};{sid})" for guid in WRITABLE_ATTRIBUTES.values()]
    # Reading a confidential attribute (searchFlags 128) takes CONTROL_ACCESS on it.
    aces += [f"(OA;CIIO;CR;{guid};{USER_CLASS};{sid})" for guid in CONFIDENTIAL_ATTRIBUTES.values()]
    return "".join(aces)


def _schema_chunks(text: str) -> list[str]:
    """The LDIF cut after each schemaUpdateNow record."""
    chunks, current = [], []
    for record in text.split("\n\n"):
        current.append(record)
        if "schemaUpdateNow" in record:
            chunks.append("\n\n".join(current) + "\n")
            current = []
    body = "\n\n".join(record for record in current if record.strip() and _is_record(record))
    if body:
        chunks.append(body + "\n")
    return chunks


def _is_record(record: str) -> bool:
    return any(line.startswith("dn:") for line in record.splitlines())


DEFAULT_PASSWORD = "Initial-Passw0rd"
STATES = ("normal", "must_change", "password_expired", "disabled", "account_expired", "locked")
# userAccountControl: NORMAL_ACCOUNT, and with ACCOUNTDISABLE.
NORMAL_ACCOUNT = 0x200
ACCOUNT_DISABLED = 0x2


@dataclass(frozen=True)
class AdAccount:
    """A test user of the DC: where it is and every name it may log in with."""

    dn: str
    login: str
    upn: str
    password: str
    mail: str
    mobile: str | None

    def domain_login(self, dc: SambaDC) -> str:
        """DOMAINE\\login, as Windows users type it."""
        return f"{dc.netbios_domain}\\{self.login}"


class AdUsers:
    """Creates users and groups on the DC, in the states the tests need."""

    def __init__(self, dc: SambaDC) -> None:
        self.dc = dc
        self.people = f"OU=people,{dc.unit}"
        self.groups = f"OU=groups,{dc.unit}"

    def create(
        self,
        state: str = "normal",
        *,
        password: str = DEFAULT_PASSWORD,
        mail: str | None = None,
        mobile: str | None = None,
        groups: tuple[str, ...] = (),
        unit: str | None = None,
        answers: tuple[str, ...] = (),
    ) -> AdAccount:
        """A new user in `state` (one of STATES), member of `groups` (DNs)."""
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}: one of {STATES}")
        login = f"ad{uuid.uuid4().hex[:12]}"  # sAMAccountName: 20 characters at most
        dn = f"CN={login},{unit or self.people}"
        account = AdAccount(
            dn=dn, login=login, upn=f"{login}@{self.dc.realm.lower()}", password=password,
            mail=mail or f"{login}@agents.sspr.test", mobile=mobile,
        )  # fmt: skip
        attributes: dict[str, object] = {
            "sAMAccountName": login,
            "userPrincipalName": account.upn,
            "givenName": "Test",
            "sn": login,
            "displayName": f"Test {login}",
            "mail": account.mail,
            "unicodePwd": f'"{password}"'.encode("utf-16-le"),
            "userAccountControl": str(NORMAL_ACCOUNT),
        }
        if mobile:
            attributes["mobile"] = mobile
        if state == "account_expired":
            attributes["accountExpires"] = str(filetime(time.time() - 86400))
        self.dc.add(dn, "user", attributes)
        if answers:
            self.dc.modify(dn, {"objectClass": [(MODIFY_ADD, ["ssprAccount"])]})
            self.dc.modify(dn, {"ssprRecoveryAnswer": [(MODIFY_REPLACE, list(answers))]})
        for group in groups:
            self.add_member(group, dn)
        self._put_in_state(account, state)
        return account

    def group(self, name: str, members: tuple[str, ...] = ()) -> str:
        """A global security group under OU=groups; members may be users or groups."""
        dn = f"CN={name},{self.groups}"
        self.dc.add(dn, "group", {"sAMAccountName": name})
        for member in members:
            self.add_member(dn, member)
        return dn

    def add_member(self, group: str, member: str) -> None:
        """Add `member` (a user or a group) to `group`."""
        self.dc.modify(group, {"member": [(MODIFY_ADD, [member])]})

    def _put_in_state(self, account: AdAccount, state: str) -> None:
        if state == "must_change":
            self.dc.modify(account.dn, {"pwdLastSet": [(MODIFY_REPLACE, ["0"])]})
        elif state == "disabled":
            control = NORMAL_ACCOUNT | ACCOUNT_DISABLED
            self.dc.modify(account.dn, {"userAccountControl": [(MODIFY_REPLACE, [str(control)])]})
        elif state == "password_expired":
            self.dc.age_password(account.dn, days=100)
        elif state == "locked":
            self.lock_out(account)

    def lock_out(self, account: AdAccount) -> None:
        """Fail binds until the domain's lockout threshold (5) locks the account."""
        for _ in range(8):
            self.dc.bind_result(account.dn, "not the password")
            if self.dc.read(account.dn, "lockoutTime")["lockoutTime"] not in ([], ["0"]):
                return
        raise SambaError(f"{account.dn} was never locked")
