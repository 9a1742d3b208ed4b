"""What the tests of reaching people outside chat share (tests/test_reach*.py):

- `MailServer`: a real SMTP server (aiosmtpd) on this machine, which keeps what it receives; it can be
  stopped and started again on the same port (the server down for a while), refuse recipients, and offer
  STARTTLS with a certificate made for the test, and log-in after it.
- `SmsGatewayDouble`: an SMS gateway over HTTP with the shape bot/reach/sms.py speaks, which keeps every
  request and answers what the test tells it to (429 with Retry-After, 5xx, 4xx).
- `Chromium`: Debian's headless Chromium driven over the DevTools protocol (a WebSocket, with the
  `websockets` client Samen already depends on), to open the acknowledgement page and press its button as
  a person would. Missing Chromium skips the browser test on a laptop, never under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import itertools
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

MAIL_USER, MAIL_PASSWORD = "samen", "mail-password-1234"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- SMTP ----------------------------------------------------------------------------------------------


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        data = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = message_from_bytes(data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.server.lock:
            self.server.received.append((list(envelope.rcpt_tos), message))
            self.server.arrived.set()
        return "250 Message accepted"


def _authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        MAIL_USER.encode(),
        MAIL_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 235 or 535 itself


@dataclass
class MailServer:
    """aiosmtpd on 127.0.0.1:`port`; `received` holds (recipients, message) as they arrived."""

    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"  # another loopback address (127.0.0.2) is "another machine" to the sender
    tls: ssl.SSLContext | None = None  # offer STARTTLS (and log-in after it) with this context
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)
    controller: Controller | None = None

    def start(self) -> MailServer:
        extra: dict[str, Any] = {}
        if self.tls is not None:
            extra = {
                "tls_context": self.tls,
                "require_starttls": True,
                "authenticator": _authenticate,
                "auth_require_tls": True,
            }
        self.controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, loop=asyncio.new_event_loop(), **extra
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[tuple[list[str], EmailMessage]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} e-mail(s), got {len(self.received)}")


@pytest.fixture(name="mail_server")
def mail_server_fixture() -> Iterator[MailServer]:
    server = MailServer().start()
    try:
        yield server
    finally:
        server.stop()


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for 127.0.0.1 made for the test: (the server's context, a client's that trusts it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


# --- the SMS gateway -----------------------------------------------------------------------------------


@dataclass
class SmsRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class SmsGatewayDouble:
    """An SMS gateway on 127.0.0.1: POST / with JSON; answers 200 {"id": …} unless told otherwise."""

    def __init__(self) -> None:
        self.requests: list[SmsRequest] = []
        self.answers: list[tuple[int, dict[str, str]]] = []  # the next answers, first first
        self.lock = threading.Lock()
        ids = itertools.count(1)
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with double.lock:
                    double.requests.append(
                        SmsRequest(
                            self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw)
                        )
                    )
                    status, headers = double.answers.pop(0) if double.answers else (200, {})
                body = json.dumps({"id": f"sms-{next(ids)}"} if status < 300 else {"error": "no"}).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="sms-gateway-double"
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/messages"

    def answer(self, status: int, **headers: str) -> None:
        with self.lock:
            self.answers.append((status, {k.replace("_", "-"): v for k, v in headers.items()}))

    def texts_to(self, number: str) -> list[str]:
        with self.lock:
            return [r.body["body"] for r in self.requests if r.body.get("to") == number]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="sms_gateway")
def sms_gateway_fixture() -> Iterator[SmsGatewayDouble]:
    double = SmsGatewayDouble()
    try:
        yield double
    finally:
        double.stop()


# --- Chromium over the DevTools protocol ------------------------------------------------------------------


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return found


class Chromium:
    """One headless Chromium, one tab, driven over CDP: open a page, read it, click, wait for the next."""

    def __init__(self, binary: str) -> None:
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="samen-chromium-")
        arguments = [
            binary,
            "--headless=new",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--accept-lang=nl-NL,nl",  # as a Dutch civil servant's browser asks: the page answers in Dutch
            "about:blank",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            arguments.insert(1, "--no-sandbox")  # Chromium refuses root with its sandbox (CI containers)
        self.process = subprocess.Popen(
            arguments, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        url = self._devtools_url()
        self.stack = contextlib.ExitStack()  # websockets wants its connection used as a context manager
        self.socket = self.stack.enter_context(connect(url, max_size=None, open_timeout=10))
        self.ids = itertools.count(1)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)

    def _devtools_url(self) -> str:
        assert self.process.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                threading.Thread(target=self._drain, daemon=True).start()
                return found.group(1)
            if not line and self.process.poll() is not None:
                break
        raise AssertionError("Chromium did not start its DevTools endpoint")

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def call(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            answer = json.loads(self.socket.recv(timeout=30))
            if answer.get("id") == number:
                if "error" in answer:
                    raise AssertionError(f"{method}: {answer['error']}")
                return dict(answer.get("result") or {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(AssertionError):
                value = self.evaluate(expression)
                if value:
                    return value
            time.sleep(0.05)
        raise AssertionError(f"the page never showed: {expression}")

    def open(self, url: str) -> str:
        """Go to `url`, wait until it has loaded; the page's text."""
        self.call("Page.navigate", session=True, url=url)
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")
        return str(self.evaluate("document.body ? document.body.innerText : ''"))

    def press(self, selector: str, then: str) -> str:
        """Click the element (as a person would: a real mouse click at its place) and wait until the
        page shows `then` (a JavaScript condition); the new page's text."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent", session=True, type=kind, x=x, y=y, button="left", clickCount=1
            )
        self.wait_for(then)
        self.wait_for("document.readyState === 'complete'")
        return str(self.evaluate("document.body.innerText"))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stack.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(name="chromium")
def chromium_fixture() -> Iterator[Chromium]:
    browser = Chromium(chromium_path())
    try:
        yield browser
    finally:
        browser.close()
