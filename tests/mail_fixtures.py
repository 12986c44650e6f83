"""Real mail servers on loopback for the mailbox tests: Dovecot (IMAP, STARTTLS and IMAPS) and
aiosmtpd (receives the replies).

Dovecot runs from a throwaway configuration under the test session's temporary folder: users in
a passwd-file, mail in Maildirs beside it, a self-signed certificate made here with
`cryptography`, unprivileged ports chosen free. Nothing of the system's configuration is read or
touched. As a normal user Dovecot runs as that user; as root (containers) its login processes
run as the packaged `dovenull`/`dovecot` users and mail is owned by `nobody`, because Dovecot
refuses both root logins and uid 0 for mail (see start_dovecot for where its files go then).
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import email
import email.policy
import grp
import imaplib
import ipaddress
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
ACCOUNTS = 200  # mailboxes one test session may hand out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 and localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jibao test mail server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Mailbox:
    """One IMAP account on the test server (a fresh one per test keeps tests independent)."""

    server: Dovecot
    user: str
    password: str

    def env(self, tls: str = "none", **extra: str) -> dict[str, str]:
        """JIBAO_IMAP_* for this account (tls: none | starttls | ssl)."""
        port = self.server.ssl_port if tls == "ssl" else self.server.port
        env = {
            "JIBAO_IMAP_HOST": "127.0.0.1",
            "JIBAO_IMAP_PORT": str(port),
            "JIBAO_IMAP_TLS": tls,
            "JIBAO_IMAP_USER": self.user,
            "JIBAO_IMAP_PASSWORD": self.password,
            "JIBAO_IMAP_CA_FILE": str(self.server.cert),
            "JIBAO_IMAP_TIMEOUT": "10",
        }
        return env | extra

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.server.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(
        self, raw: bytes, received: dt.datetime, *, folder: str = "INBOX", flags: str = ""
    ) -> int:
        """Deliver `raw` with INTERNALDATE = `received` (aware); returns its UID."""
        client = self.connect()
        try:
            if folder != "INBOX":
                client.create(folder)
            typ, data = client.append(
                folder, flags or None, imaplib.Time2Internaldate(received), raw
            )
            assert typ == "OK", data
            m = re.search(rb"APPENDUID \d+ (\d+)", data[0])
            assert m, data
            return int(m.group(1))
        finally:
            client.logout()

    def messages(self, folder: str = "INBOX") -> dict[int, tuple[str, ...]]:
        """{uid: flags} of the messages in `folder`."""
        client = self.connect()
        try:
            typ, _ = client.select(_quote(folder))
            if typ != "OK":
                return {}
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS)")
            out = {}
            for item in data:
                if not item:
                    continue
                line = item if isinstance(item, bytes) else item[0]
                m = re.search(rb"UID (\d+)", line)
                if m:
                    flags = tuple(f.decode() for f in imaplib.ParseFlags(line))
                    out[int(m.group(1))] = flags
            return out
        finally:
            client.logout()

    def set_flags(self, uid: int, flags: str, *, add: bool) -> None:
        client = self.connect()
        try:
            client.select("INBOX")
            client.uid("STORE", str(uid), "+FLAGS" if add else "-FLAGS", f"({flags})")
        finally:
            client.logout()


def _quote(folder: str) -> str:
    from imap_tools.imap_utf7 import utf7_encode

    return '"' + utf7_encode(folder).decode() + '"'


@dataclass
class Dovecot:
    root: Path
    port: int  # IMAP, STARTTLS offered
    ssl_port: int  # IMAPS
    cert: Path
    process: subprocess.Popen
    accounts: list[tuple[str, str]]
    _users: int = 0

    def new_mailbox(self) -> Mailbox:
        """A fresh, empty account (made before the server started: Dovecot notices a changed
        passwd-file by its mtime, which two quick additions within a second would not move)."""
        self._users += 1
        user, password = self.accounts[self._users - 1]
        return Mailbox(self, user, password)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.root.name.startswith("jibao-dovecot-"):
            shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(root: Path) -> Dovecot:
    """Start Dovecot on two free loopback ports with a configuration written under `root`.

    As root, Dovecot's own users must reach the folder, and pytest keeps its temporary tree
    private (0700, re-tightened by every pytest run): the server then lives in a folder of its
    own under the system's temporary directory, removed when it stops."""
    if os.geteuid() == 0:
        root = Path(tempfile.mkdtemp(prefix="jibao-dovecot-"))
        root.chmod(0o711)
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(exist_ok=True)
    cert, key = self_signed_certificate(root)
    accounts = [(f"office{n}", secrets.token_hex(8)) for n in range(1, ACCOUNTS + 1)]
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in accounts))
    if os.geteuid() == 0:
        login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
        mail_uid, mail_gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        os.chown(root / "mail", mail_uid, mail_gid)
    else:
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        login_user, internal_user, internal_group = me, me, group
        mail_uid, mail_gid = os.getuid(), os.getgid()
    port, ssl_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = jibao-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {mail_uid}
last_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
last_valid_gid = {mail_gid}
mail_location = maildir:~/Maildir
mail_max_keyword_length = 50
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "dovecot.stderr", "wb"),  # noqa: SIM115 - lives as long as the server
    )
    server = Dovecot(root, port, ssl_port, cert, process, accounts)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                "Dovecot did not start:\n"
                + server.log()
                + (root / "dovecot.stderr").read_text(errors="replace")
            )
        time.sleep(0.05)
    return server


# ---------------------------------------------------------------- SMTP


@dataclass
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    """aiosmtpd on loopback, keeping every message it accepts."""

    port: int
    controller: object
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    delay: float = 0.0  # seconds between keeping a message and answering 250 (a slow server)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"

    def env(self) -> dict[str, str]:
        return {
            "JIBAO_SMTP_HOST": "127.0.0.1",
            "JIBAO_SMTP_PORT": str(self.port),
            "JIBAO_SMTP_TLS": "none",
            "JIBAO_SMTP_SENDER": "qzlcajajg@126.com",
            "JIBAO_SMTP_TIMEOUT": "10",
        }

    def replies_to(self, message_id: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.message["In-Reply-To"] == message_id]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        with self.lock:
            return list(self.received)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
        self.delay = 0.0

    def stop(self) -> None:
        self.controller.stop()  # type: ignore[attr-defined]


def start_smtp() -> SmtpSink:
    from aiosmtpd.controller import Controller

    port = free_port()
    sink = SmtpSink(port, None)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.controller = controller
    return sink


# ---------------------------------------------------------------- pytest fixtures
# Import these into a test module (`from tests.mail_fixtures import dovecot, mailbox, smtp`).
# However many modules import them, the process starts one Dovecot and one SMTP server.

_servers: dict[str, object] = {}


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    if "dovecot" not in _servers:
        server = start_dovecot(tmp_path_factory.mktemp("dovecot"))
        _servers["dovecot"] = server
        atexit.register(server.stop)
    yield _servers["dovecot"]  # type: ignore[misc]


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    if "smtp" not in _servers:
        sink = start_smtp()
        _servers["smtp"] = sink
        atexit.register(sink.stop)
    yield _servers["smtp"]  # type: ignore[misc]


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    """A fresh, empty account for one test."""
    return dovecot.new_mailbox()


@pytest.fixture
def smtp(smtp_server: SmtpSink) -> SmtpSink:
    """The SMTP server, emptied for one test."""
    smtp_server.clear()
    return smtp_server
