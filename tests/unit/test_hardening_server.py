"""cardserver against hostile clients, on the REAL project tree (not a fake one).

tests/unit/test_server.py checks the server's rules on a small fake project. This file points
the server at the repository itself, where .git, .venv, node_modules, the tests and the
server's own source all lie next to the app, and checks what a stranger can get out of it:

- every file in the tree, and ~100 hostile paths, answer 404 unless they are one of the app's
  public files; and EVERY 200 body is byte for byte one of those public files;
- malformed, HTTP/0.9 and over-long requests get a real HTTP status line with the security
  headers, like every other answer;
- a 10 GB Content-Length is refused at once, without waiting for the body;
- AUTH_ID / REFRESH_ID canaries sent in every place a request can carry them never reach the log;
- slow, idle and non-reading clients never hold up anyone else.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from test_server import raw_exchange as raw

from cardserver import CardServer, read_runtime_versions, running
from cardserver.simulator_card import simulator_card_page

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = read_runtime_versions(ROOT)
PYODIDE = f"/runtime/pyodide-{VERSIONS.pyodide}"
PYSCRIPT = f"/runtime/pyscript-{VERSIONS.pyscript}"
CANARY_AUTH = "CanaryAuthHardening7f3a"
CANARY_REFRESH = "CanaryRefreshHardening2b9c"
CANARIES = (CANARY_AUTH, CANARY_REFRESH)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


# --------------------------------------------------------------------------- the public surface


def public_files() -> dict[str, Path]:
    """URL -> file of everything the app is meant to publish, stated here independently of
    cardserver/routes.py: the pages, our two Python packages (top level only), static assets,
    the simulator, and the few runtime files PyScript and Pyodide load."""
    files: dict[str, Path] = {}

    def add(url: str, path: Path) -> None:
        if path.is_file() and not path.is_symlink():
            files[url] = path

    for name in ("index.html", "main.py", "pyscript.toml", "install.html", "install.py",
                 "install.toml"):
        add(f"/{name}", ROOT / name)
    for package in ("bx24_bridge", "callcard"):
        for path in sorted((ROOT / package).glob("*.py")):
            add(f"/{package}/{path.name}", path)
    for path in sorted((ROOT / "static").rglob("*")):
        relative = path.relative_to(ROOT / "static")
        hidden = any(part.startswith(".") for part in relative.parts)
        if not hidden and path.suffix in {".css", ".svg", ".png", ".ico", ".js"}:
            add(f"/static/{relative.as_posix()}", path)
    for path in sorted((ROOT / "simulator").glob("*")):
        if not path.name.startswith(".") and path.suffix in {
            ".html", ".js", ".css", ".py", ".json", ".svg", ".png"
        }:
            add(f"/simulator/{path.name}", path)
    dist = ROOT / "node_modules" / "@pyscript" / "core" / "dist"
    if VERSIONS.pyscript:
        for path in sorted(dist.glob("*")):
            if path.suffix in {".js", ".css"}:
                add(f"{PYSCRIPT}/{path.name}", path)
    if VERSIONS.pyodide:
        built = ROOT / ".cache" / "runtime" / f"pyodide-{VERSIONS.pyodide}"  # make stdlib
        for name in ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                     "pyodide-lock.json"):
            package_file = ROOT / "node_modules" / "pyodide" / name
            add(f"{PYODIDE}/{name}", built / name if (built / name).is_file() else package_file)
    return files


class PublicContent:
    """Hashes of the public files, re-read when a file changes (others edit the tree too)."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[tuple[int, int], str]] = {}

    def _digest(self, path: Path) -> str:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is None or cached[0] != key:
            cached = (key, hashlib.sha256(path.read_bytes()).hexdigest())
            self._cache[path] = cached
        return cached[1]

    def digests(self) -> set[str]:
        found = set()
        for path in public_files().values():
            try:
                found.add(self._digest(path))
            except OSError:
                continue  # deleted meanwhile
        index = ROOT / "index.html"
        found.add(hashlib.sha256(simulator_card_page(index.read_bytes())).hexdigest())
        return found

    def is_public(self, body: bytes) -> bool:
        return hashlib.sha256(body).hexdigest() in self.digests()


PUBLIC = PublicContent()


# --------------------------------------------------------------------------- plumbing


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


@pytest.fixture(scope="module")
def log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def server(log: io.StringIO) -> Iterator[CardServer]:
    """The real server on the real repository, logging every request (not quiet)."""
    with running(ROOT, "127.0.0.1", 0, log_stream=log, timeout=1.0) as card_server:
        yield card_server


class Client:
    """One keep-alive connection that reconnects when the server closed it."""

    def __init__(self, server: CardServer) -> None:
        self.address = server.server_address[:2]
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> Answer:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(*self.address, timeout=5)
            try:
                self.connection.request(method, path, body=body, headers={
                    "Accept-Encoding": "identity", **(headers or {})})
                response = self.connection.getresponse()
                answer = Answer(response.status, response.headers, response.read())
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            return answer
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@pytest.fixture
def client(server: CardServer) -> Iterator[Client]:
    c = Client(server)
    yield c
    c.close()


def check_refused_or_public(answer: Answer, path: str) -> None:
    if answer.status == 200:
        assert PUBLIC.is_public(answer.body), f"{path} served something that is not public"
    else:
        assert answer.status in (400, 404, 405), (path, answer.status)
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value, (path, name)


# --------------------------------------------------------------------------- only public files


def test_the_public_files_are_served_and_are_what_the_test_calls_public(client: Client) -> None:
    """Positive control: each public file answers 200 with exactly its bytes (so the 404s below
    are not the server being broken), and the list is not trivially small."""
    files = public_files()
    assert {"/index.html", "/main.py", "/callcard/app.py", "/static/app.css"} <= set(files)
    if VERSIONS.pyodide:
        assert f"{PYODIDE}/pyodide.asm.wasm" in files
    for url, path in files.items():
        answer = client.get(url)
        assert answer.status == 200, url
        assert answer.body == path.read_bytes(), url


def tree_files() -> list[str]:
    """Every file under the repository as a URL path, .venv sampled (it has thousands)."""
    found: list[str] = []
    venv_sample = 0
    for directory, _dirs, names in os.walk(ROOT):
        relative = Path(directory).relative_to(ROOT)
        in_venv = relative.parts[:1] == (".venv",)
        for name in sorted(names):
            if in_venv:
                venv_sample += 1
                if venv_sample % 40:
                    continue
            found.append(quote("/" + (relative / name).as_posix().removeprefix("./")))
    return found


def test_every_file_in_the_tree_is_404_unless_it_is_public(client: Client) -> None:
    """Walk the repository (.git, node_modules, .cache, tests, the server's own source, tools,
    docs, bench, a sample of .venv...) and ask for each file at its own path: only the public
    files answer, and each 200 is a public file's exact bytes."""
    urls = tree_files()
    assert len(urls) > 500  # .git and node_modules alone have hundreds of files
    served = []
    for url in urls:
        answer = client.get(url)
        check_refused_or_public(answer, url)
        if answer.status == 200:
            served.append(url)
    public = set(public_files())  # listed after the walk: a file added meanwhile is in it
    assert set(served) <= public, sorted(set(served) - public)
    assert "/.git/HEAD" in urls and "/cardserver/app.py" in urls and "/pyproject.toml" in urls


HOSTILE_PATHS = [
    # repository files that are not the app
    "/.git/HEAD", "/.git/config", "/.git/index", "/.git/", "/.git", "/.gitignore", "/.env",
    "/.env.local", "/.venv/pyvenv.cfg", "/.venv/bin/python", "/.cache/", "/.hypothesis/",
    "/.pytest_cache/README.md", "/.ruff_cache/", "/node_modules/",
    "/node_modules/.package-lock.json",
    "/node_modules/pyodide/package.json", "/node_modules/pyodide/pyodide.mjs",
    "/node_modules/@pyscript/core/package.json", "/package.json", "/package-lock.json",
    "/pyproject.toml", "/Makefile", "/README.md", "/LICENSE", "/tests/conftest.py",
    "/tests/unit/test_server.py", "/tests/browser/conftest.py",
    "/tests/browser/bridge_harness.html", "/bridge-harness.html", "/cardserver/app.py",
    "/cardserver/__main__.py", "/cardserver/", "/tools/", "/docs/simulator.png", "/bench/",
    "/callcard/__pycache__/app.cpython-311.pyc", "/bx24_bridge/__pycache__/",
    "/callcard/app.py~", "/callcard/app.py.bak", "/main.py.orig", "/index.html.swp",
    "/.index.html.swp", "/callcard/.app.py.swp", "/static/../pyproject.toml",
    # runtime files that are not on the runtime allow-list, and versions that are not installed
    f"{PYODIDE}/package.json", f"{PYODIDE}/pyodide.js", f"{PYODIDE}/pyodide.js.map",
    f"{PYODIDE}/console.html", f"{PYODIDE}/README.md", f"{PYODIDE}/../../package.json",
    f"{PYODIDE}/%2e%2e/%2e%2e/.git/HEAD", f"{PYSCRIPT}/../package.json",
    f"{PYSCRIPT}/../src/core.js", "/runtime/pyodide-0.0.0/pyodide.mjs", "/runtime/pyodide/",
    "/runtime/pyodide-../pyodide.mjs", "/runtime/pyodide-%2e%2e/pyodide.mjs",
    # traversal: plain, encoded, double-encoded, backslashes, overlong UTF-8, NUL, odd separators
    "/../../etc/passwd", "/../../../../../../etc/passwd", "/static/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/..%2f..%2fetc%2fpasswd",
    "/%252e%252e/%252e%252e/etc/passwd", "/%25252e%25252e/etc/passwd",
    "/..%5c..%5cetc%5cpasswd", "/static/..%5c..%5cpyproject.toml", "/static\\..\\pyproject.toml",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
    "/%e0%80%ae%e0%80%ae/etc/passwd", "/%f0%80%80%ae%f0%80%80%ae/etc/passwd",
    "/%ef%bc%8e%ef%bc%8e/etc/passwd", "/..%c0%af..%c0%afetc/passwd", "/..%u2216etc/passwd",
    "/main.py%00", "/main.py%00.css", "/static/app.css%00.py", "/%00/etc/passwd",
    "/main.py%2500", "/..;/..;/etc/passwd", "/;/../pyproject.toml", "/./main.py",
    "/.%2fmain.py", "//etc/passwd", "///pyproject.toml", "/callcard//app.py",
    "/callcard/./app.py", "/callcard/%2e/app.py", "/callcard%2fapp.py", "/callcard/app.py/",
    "/callcard/app.py/.", "/static/app.css/..", "/%2fetc%2fpasswd", "/file:///etc/passwd",
    "/C:%5cWindows%5cwin.ini", "/static/~/.ssh/id_rsa", "/~root/.bashrc",
    "/proc/self/environ", "/%2e%2e%2f%2e%2e%2fproc%2fself%2fenviron",
    # directories: never a listing
    "/callcard/", "/bx24_bridge/", "/static/", "/simulator/card/runtime/",
    "/runtime/", f"{PYODIDE}/",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_paths_are_refused(client: Client, path: str) -> None:
    """~100 paths a scanner tries, many naming real files of the repository (pyproject.toml,
    .git/HEAD, the server's source) by traversal or a near-miss spelling: all refused, with the
    security headers, and nothing of those files in the answer."""
    answer = client.get(path)
    assert answer.status in (400, 404, 405), (path, answer.status)
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value, (path, name)
    for secret in (b"[tool.pytest", b"ref: refs/", b"root:x:", b"def make_server"):
        assert secret not in answer.body, path


@pytest.mark.parametrize(
    "target",
    [
        b"../../etc/passwd", b"pyproject.toml", b"http://127.0.0.1/../../pyproject.toml",
        b"http://evil.example/main.py", b"/static/\\..\\..\\pyproject.toml",
        b"/%c0%ae%c0%ae/pyproject.toml", b"/\xc0\xae\xc0\xae/pyproject.toml",
        b"/main.py\x00.css", b"*", b"/.git/HEAD#", b"/.git%2FHEAD",
    ],
)
def test_raw_request_targets_are_refused(server: CardServer, target: bytes) -> None:
    """Request targets no client library would send (no leading slash, absolute form, raw
    non-UTF-8 bytes, a NUL) are refused with a proper status line and the security headers."""
    reply = raw(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 404 ")), reply[:60]
    assert b"\r\nX-Content-Type-Options: nosniff\r\n" in reply
    assert b"[tool.pytest" not in reply and b"ref: refs/" not in reply


# --------------------------------------------------------------------------- odd requests


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /main.py HTTP/0.9",  # an explicit HTTP/0.9 request
        b"GET /main.py",  # HTTP/0.9's "simple request": no version at all
        b"GET / HTTP/1.1 extra",  # four words
        b"GET",  # one word
        b"GET / HTTX/1.1",  # not HTTP
        b"GET / HTTP/9.9",  # a version we do not speak
    ],
)
def test_odd_request_lines_get_a_real_status_line_with_security_headers(
    server: CardServer, request_line: bytes
) -> None:
    """No answer goes out as a bare HTTP/0.9 body: that would carry no Content-Type, no
    nosniff and no CSP. Every odd request line gets an HTTP/1.1 status line, the security
    headers, and never the file it named."""
    reply = raw(server, request_line + b"\r\nHost: x\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 4") or head.startswith(b"HTTP/1.1 5"), reply[:80]
    for name, value in SECURITY_HEADERS.items():
        assert f"\r\n{name}: {value}".encode() in head, (request_line, name)
    assert b"CallCardApp" not in body


def test_a_ten_gigabyte_body_is_refused_at_once(server: CardServer, client: Client) -> None:
    """Content-Length: 10 GB (and a 40-digit one) with only a few bytes sent: 413 within a
    fraction of a second, the connection closed, the server still answering everyone."""
    for length in (b"10737418240", b"9" * 40):
        started = time.monotonic()
        reply = raw(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + length
                    + b"\r\nExpect: 100-continue\r\n\r\nAUTH_ID=" + CANARY_AUTH.encode())
        assert reply.startswith(b"HTTP/1.1 413 "), reply[:60]
        assert b"100 Continue" not in reply
        assert time.monotonic() - started < 1.0
    assert client.get("/").status == 200


# --------------------------------------------------------------------------- tokens and the log


def test_tokens_anywhere_in_a_request_never_reach_the_log(
    server: CardServer, client: Client, log: io.StringIO
) -> None:
    """Canary AUTH_ID / REFRESH_ID in the query string, the form body, cookies, Referer,
    Authorization and custom headers, on answers of every kind (200, 304, 404, 405, 413, 400,
    414, 431): the log records each request, and never a canary."""
    form = f"AUTH_ID={CANARY_AUTH}&REFRESH_ID={CANARY_REFRESH}&member_id=m".encode()
    query = f"?DOMAIN=x&AUTH_ID={CANARY_AUTH}&REFRESH_ID={CANARY_REFRESH}"
    sneaky = {"Referer": f"https://portal.example/app/{query}",
              "Cookie": f"AUTH_ID={CANARY_AUTH}; REFRESH_ID={CANARY_REFRESH}",
              "Authorization": f"Bearer {CANARY_AUTH}", "X-Refresh": CANARY_REFRESH}
    before = len(log.getvalue().splitlines())
    etag = client.get("/main.py").headers["ETag"]
    client.get("/" + query, "POST", form,
               {"Content-Type": "application/x-www-form-urlencoded", **sneaky})
    client.get("/main.py" + query, headers={"If-None-Match": etag, **sneaky})
    client.get("/nope" + query, headers=sneaky)
    client.get("/main.py" + query, "PUT", form, sneaky)
    client.get("/main.py" + query, "POST", form, sneaky)
    raw(server, f"POST /{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n"
        .encode() + form)
    raw(server, f"GET /{query} HTTP/1.1 junk\r\nHost: x\r\n\r\n".encode())
    raw(server, b"GET /" + b"a" * 70_000 + query.encode() + b" HTTP/1.1\r\n\r\n")
    raw(server, f"GET /{query} HTTP/1.1\r\nX: {'a' * 70_000}\r\n\r\n".encode())
    time.sleep(0.1)  # the last lines are written after the answers
    lines = log.getvalue().splitlines()[before:]
    statuses = {line.split()[3] for line in lines if len(line.split()) > 3}
    assert {"200", "304", "404", "405", "413", "400", "414", "431"} <= statuses, lines
    for canary in CANARIES:
        assert canary not in log.getvalue()


# --------------------------------------------------------------------------- slow clients


def test_slow_idle_and_non_reading_clients_do_not_hold_up_others(server: CardServer) -> None:
    """Thirty idle connections, a POST whose body trickles in byte by byte, and a client that
    asks for the 10 MB WebAssembly file and never reads it: meanwhile every ordinary request is
    answered at once, and the server drops the stalled ones after its timeout (1 s here)."""
    address = server.server_address[:2]
    idle = [socket.create_connection(address, timeout=5) for _ in range(30)]
    trickle = socket.create_connection(address, timeout=5)
    trickle.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(0.05):
            try:
                trickle.sendall(b"a")
            except OSError:
                return

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    hog = socket.socket()
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.connect(address)
    hog.sendall(f"GET {PYODIDE}/pyodide.asm.wasm HTTP/1.1\r\nHost: x\r\n"
                "Accept-Encoding: identity\r\n\r\n".encode())
    try:
        time.sleep(0.2)
        fresh = Client(server)
        started = time.monotonic()
        for path in ("/", "/main.py", "/callcard/app.py", "/static/app.css") * 5:
            assert fresh.get(path).status == 200
        assert time.monotonic() - started < 1.0
        fresh.close()
        for sock in idle:  # dropped by the server's timeout, without an answer
            assert sock.recv(100) == b""
    finally:
        stop.set()
        dripper.join(timeout=2)
        for sock in (*idle, trickle, hog):
            sock.close()
