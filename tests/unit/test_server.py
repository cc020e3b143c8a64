"""The HTTP server (cardserver): routing allow-list, headers, caching, gzip/br, limits, CLI, TLS.

Every test talks to a real server on 127.0.0.1 (port 0, background thread) over http.client or
a raw socket, serving a fake project tree built in tmp_path.
"""

from __future__ import annotations

import gzip
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

import cardserver
from cardserver import CardServer, RuntimeVersions, read_runtime_versions, running, warm
from cardserver.compression import AcceptEncoding, brotli_pays_off

REPO_ROOT = Path(__file__).resolve().parents[2]
PYSCRIPT_VERSION = "0.7.31"
PYODIDE_VERSION = "314.0.7"
PYSCRIPT = f"/runtime/pyscript-{PYSCRIPT_VERSION}"
PYODIDE = f"/runtime/pyodide-{PYODIDE_VERSION}"
SECRET = "TOP-SECRET-DO-NOT-SERVE"

INDEX_HTML = "<!doctype html><html><head><title>Call card</title></head><body>card</body></html>\n"
MAIN_PY = "from callcard.app import CallCardApp\n" + "# padding so that gzip pays off\n" * 40
CORE_JS = "export const core = 1;\n" * 200
WASM = b"\0asm\x01\0\0\0" + bytes(range(256)) * 64

Response = tuple[int, http.client.HTTPMessage, bytes]


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _incompressible(size: int) -> bytes:
    return random.Random(1).randbytes(size)


def make_project(base: Path) -> Path:
    """A fake project: app files, runtime packages, and plenty that must never be served."""
    root = base / "project"
    files: dict[str, str | bytes] = {
        "index.html": INDEX_HTML,
        "main.py": MAIN_PY,
        "pyscript.toml": f'interpreter = "{PYODIDE}/pyodide.mjs"\n',
        "install.html": "<!doctype html><title>Install</title>",
        "install.py": "INSTALL = 1\n",
        "install.toml": f'interpreter = "{PYODIDE}/pyodide.mjs"\n',
        "bx24_bridge/__init__.py": '"""bridge"""\n',
        "bx24_bridge/host.py": "HOST = 1\n",
        "callcard/__init__.py": "",
        "callcard/app.py": "class CallCardApp: ...\n",
        "callcard/sub/deep.py": SECRET,
        "callcard/notes.txt": SECRET,
        "static/app.css": "body { color: black; }\n" * 20,
        "static/icon.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
        "static/logo.png": b"\x89PNG\r\n\x1a\n" + _incompressible(64),
        "static/favicon.ico": b"\0\0\1\0",
        "static/img/nested.svg": "<svg/>",
        "static/secret.txt": SECRET,
        "static/.hidden.css": SECRET,
        "simulator/index.html": "<!doctype html><title>Simulator</title><iframe src='/'></iframe>",
        "simulator/sim.js": "console.log('sim');\n",
        "simulator/data.json": '{"ok": true}',
        "simulator/fake.py": "x = 1\n",
        "simulator/notes.md": SECRET,
        "node_modules/@pyscript/core/package.json": json.dumps({"version": PYSCRIPT_VERSION}),
        "node_modules/@pyscript/core/dist/core.js": CORE_JS,
        "node_modules/@pyscript/core/dist/core.css": ".py { display: none; }\n" * 20,
        "node_modules/@pyscript/core/dist/core.js.map": SECRET,
        "node_modules/@pyscript/core/src/core.js": SECRET,
        "node_modules/pyodide/package.json": json.dumps({"version": PYODIDE_VERSION}),
        "node_modules/pyodide/pyodide.mjs": "export const loadPyodide = 1;\n" * 50,
        "node_modules/pyodide/pyodide.asm.mjs": "var _createPyodideModule;\n" * 50,
        "node_modules/pyodide/pyodide.asm.wasm": WASM,
        "node_modules/pyodide/python_stdlib.zip": _incompressible(4096),
        "node_modules/pyodide/pyodide-lock.json": json.dumps({"packages": {}}),
        "node_modules/pyodide/pyodide.js": SECRET,
        "node_modules/pyodide/README.md": SECRET,
        ".git/config": SECRET,
        ".env": SECRET,
        ".venv/pyvenv.cfg": SECRET,
        "tests/unit/test_x.py": SECRET,
        "cardserver/app.py": SECRET,
        "package.json": SECRET,
    }
    for name, content in files.items():
        _write(root / name, content)
    _write(base / "outside.txt", SECRET)
    (root / "static" / "escape.css").symlink_to(base / "outside.txt")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh project, for tests that change files."""
    return make_project(tmp_path)


@pytest.fixture(scope="module")
def shared_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the many tests that only read."""
    return make_project(tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="module")
def server(shared_project: Path) -> Iterator[CardServer]:
    """One server on the shared project (starting one per test would cost a shutdown each)."""
    with running(shared_project, "127.0.0.1", 0, log_stream=io.StringIO()) as shared:
        yield shared


ServerFactory = Callable[..., CardServer]


@pytest.fixture
def serve(project: Path) -> Iterator[ServerFactory]:
    """Start servers on the fake project (or another root) with given options; stop them after."""
    stack: list = []

    def start(root: Path | None = None, **options) -> CardServer:
        options.setdefault("log_stream", io.StringIO())
        context = running(root or project, "127.0.0.1", 0, **options)
        stack.append(context)
        return context.__enter__()

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


def request(
    server: CardServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def get(server: CardServer, path: str, **headers: str) -> Response:
    return request(
        server, "GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def raw_exchange(server: CardServer, data: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes, return everything the server sends until it closes the connection."""
    with socket.create_connection(server.server_address[:2], timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


# -- the page ----------------------------------------------------------------------------------


def test_get_and_post_of_the_root_answer_the_same_index_page(server: CardServer) -> None:
    form = b"AUTH_ID=secret-auth-token&REFRESH_ID=secret-refresh&member_id=abc"
    get_status, get_headers, get_body = get(server, "/")
    post_status, post_headers, post_body = request(
        server,
        "POST",
        "/",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert get_status == post_status == 200
    assert get_body == post_body == INDEX_HTML.encode()
    assert get_headers["Content-Type"] == post_headers["Content-Type"] == "text/html; charset=utf-8"
    assert get_headers["ETag"] == post_headers["ETag"]
    assert get(server, "/index.html")[2] == INDEX_HTML.encode()
    post_index = request(server, "POST", "/index.html", body=form)
    assert post_index[0] == 200
    assert post_index[2] == INDEX_HTML.encode()


def test_post_body_is_consumed_discarded_and_never_logged(serve: ServerFactory) -> None:
    log = io.StringIO()
    server = serve(log_stream=log)
    host, port = server.server_address[:2]
    form = b"AUTH_ID=body-secret-token&member_id=42"
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("POST", "/?DOMAIN=portal&APP_SID=query-secret-token", body=form)
        first = connection.getresponse()
        first_body = first.read()
        # Same connection: had the body not been read, it would be parsed as the next request.
        connection.request("GET", "/main.py")
        second = connection.getresponse()
        second_body = second.read()
    finally:
        connection.close()
    assert first.status == 200
    assert b"body-secret-token" not in first_body
    assert first_body == INDEX_HTML.encode()
    assert second.status == 200
    assert second_body == MAIN_PY.encode()
    # The POST's line was written before the server read the GET (one connection, in order).
    lines = log.getvalue().splitlines()
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] POST / 200 \d+B [\d.]+ms", lines[0]), lines
    assert "secret-token" not in log.getvalue()
    assert "DOMAIN" not in log.getvalue()


def test_post_without_content_length_counts_as_an_empty_body(server: CardServer) -> None:
    raw = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(raw) == 200
    assert raw.endswith(INDEX_HTML.encode())


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: -5\r\n", 400),
        ("Content-Length: \u00b2\r\n".encode("latin-1"), 400),  # a digit, but not ASCII
        (b"Content-Length: 3\r\nContent-Length: 4\r\n", 400),
        (b"Transfer-Encoding: chunked\r\n", 411),
    ],
)
def test_unusable_body_framing_is_refused_and_the_connection_closed(
    server: CardServer, header: bytes, status: int
) -> None:
    raw = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: x\r\n" + header + b"\r\nabcd")
    assert status_of(raw) == status
    assert b"Connection: close" in raw
    assert INDEX_HTML.encode() not in raw


# -- content types and the allow-list -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/main.py", "text/x-python; charset=utf-8"),
        ("/pyscript.toml", "application/toml"),
        ("/bx24_bridge/__init__.py", "text/x-python; charset=utf-8"),
        ("/bx24_bridge/host.py", "text/x-python; charset=utf-8"),
        ("/callcard/app.py", "text/x-python; charset=utf-8"),
        ("/static/app.css", "text/css; charset=utf-8"),
        ("/static/icon.svg", "image/svg+xml"),
        ("/static/logo.png", "image/png"),
        ("/static/img/nested.svg", "image/svg+xml"),
        ("/simulator/", "text/html; charset=utf-8"),
        ("/simulator/index.html", "text/html; charset=utf-8"),
        ("/simulator/sim.js", "text/javascript; charset=utf-8"),
        ("/simulator/data.json", "application/json"),
        ("/simulator/fake.py", "text/x-python; charset=utf-8"),
        (f"{PYSCRIPT}/core.js", "text/javascript; charset=utf-8"),
        (f"{PYSCRIPT}/core.css", "text/css; charset=utf-8"),
        (f"{PYODIDE}/pyodide.mjs", "text/javascript; charset=utf-8"),
        (f"{PYODIDE}/pyodide.asm.mjs", "text/javascript; charset=utf-8"),
        (f"{PYODIDE}/pyodide.asm.wasm", "application/wasm"),
        (f"{PYODIDE}/python_stdlib.zip", "application/zip"),
        (f"{PYODIDE}/pyodide-lock.json", "application/json"),
    ],
)
def test_allow_listed_files_are_served_with_their_content_type(
    server: CardServer, path: str, content_type: str
) -> None:
    status, headers, body = get(server, path)
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert int(headers["Content-Length"]) == len(body) > 0
    assert SECRET.encode() not in body


def test_runtime_files_come_from_node_modules(server: CardServer) -> None:
    assert get(server, f"{PYSCRIPT}/core.js")[2] == CORE_JS.encode()
    assert get(server, f"{PYODIDE}/pyodide.asm.wasm")[2] == WASM


def test_runtime_versions_are_read_from_the_installed_packages(
    shared_project: Path, server: CardServer
) -> None:
    versions = read_runtime_versions(shared_project)
    assert versions == RuntimeVersions(pyscript=PYSCRIPT_VERSION, pyodide=PYODIDE_VERSION)
    assert server.runtime_versions == versions
    assert versions.pyscript_url("core.js") == f"{PYSCRIPT}/core.js"
    assert versions.pyodide_url() == f"{PYODIDE}/"
    missing = read_runtime_versions(shared_project / "nowhere")
    assert missing == RuntimeVersions(None, None)
    with pytest.raises(LookupError):
        missing.pyodide_url("pyodide.mjs")


@pytest.mark.parametrize(
    "path",
    [
        "/runtime/pyscript-0.7.30/core.js",  # not the installed version
        "/runtime/pyodide-0.27.0/pyodide.mjs",
        "/runtime/pyodide-latest/pyodide.mjs",
        "/runtime/pyscript/core.js",
        f"/runtime/pyscript-{PYODIDE_VERSION}/pyodide.mjs",  # version of the other package
        f"{PYSCRIPT}/core.js.map",  # source maps are not served
        f"{PYSCRIPT}/package.json",
        f"{PYSCRIPT}/../src/core.js",
        f"{PYSCRIPT}/%2e%2e%2fsrc%2fcore.js",
        f"{PYODIDE}/README.md",
        f"{PYODIDE}/pyodide.js",  # not on the pyodide allow-list
        f"{PYODIDE}/package.json",
        f"{PYODIDE}/",
        f"{PYODIDE}",
        "/runtime/",
    ],
)
def test_runtime_urls_outside_the_allow_list_are_404(server: CardServer, path: str) -> None:
    status, _, body = get(server, path)
    assert status == 404
    assert body == b"404 Not Found\n"


@pytest.mark.parametrize(
    "path",
    [
        "/.git/config",
        "/.git/",
        "/.env",
        "/.venv/pyvenv.cfg",
        "/tests/unit/test_x.py",
        "/node_modules/pyodide/pyodide.mjs",
        "/node_modules/@pyscript/core/dist/core.js",
        "/cardserver/app.py",
        "/package.json",
        "/static/secret.txt",
        "/static/.hidden.css",
        "/static/%2ehidden.css",
        "/static/escape.css",  # symlink pointing outside the project
        "/callcard/notes.txt",
        "/callcard/sub/deep.py",
        "/simulator/notes.md",
        # traversal, plain and encoded
        "/../outside.txt",
        "/static/../.git/config",
        "/static/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/static/%2e%2e/.git/config",
        "/static%2f..%2f.git%2fconfig",
        "/static/..%2f..%2foutside.txt",
        "/static/%252e%252e/%252e%252e/outside.txt",  # double encoding
        "/static/%252e%252e%252fsecret.txt",
        "/static/..%5c..%5coutside.txt",
        "/static/.%2e/secret.txt",
        "/static/img/../app.css",  # stays inside static/, but still a traversal
        "/static/img/%2e%2e/app.css",
        "/%2egit/config",
        "//.git/config",
        "/callcard//app.py",
        "/main.py%00.css",
        "/static/app.css%00",
        "/static/%ff.css",
        "/MAIN.PY",
    ],
)
def test_nothing_outside_the_allow_list_is_served(server: CardServer, path: str) -> None:
    status, _, body = get(server, path)
    assert status == 404, path
    assert SECRET.encode() not in body


@pytest.mark.parametrize(
    "raw_path",
    [b"/main.py\x00.css", b"/static/../../outside.txt", b"/static/\\..\\..\\outside.txt", b"*"],
)
def test_raw_malformed_paths_are_refused(server: CardServer, raw_path: bytes) -> None:
    raw = raw_exchange(
        server, b"GET " + raw_path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status_of(raw) in (400, 404)
    assert SECRET.encode() not in raw


@pytest.mark.parametrize(
    "path", ["/bx24_bridge/", "/callcard/", "/static/", "/static/img/", "/runtime/", "/simulator"]
)
def test_there_are_no_directory_listings(server: CardServer, path: str) -> None:
    status, _, body = get(server, path)
    assert status == 404
    assert b"__init__" not in body


def test_favicon_is_the_svg_when_there_is_one_else_no_content(
    serve: ServerFactory, project: Path
) -> None:
    server = serve()
    assert get(server, "/favicon.ico")[0] == 204  # static/favicon.ico is not the favicon
    _write(project / "static" / "favicon.svg", "<svg/>")
    status, headers, body = get(server, "/favicon.ico")
    assert (status, headers["Content-Type"], body) == (200, "image/svg+xml", b"<svg/>")


def test_a_project_without_simulator_or_runtime_answers_404(
    serve: ServerFactory, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"
    _write(bare / "index.html", INDEX_HTML)
    server = serve(bare)
    assert get(server, "/")[0] == 200
    assert get(server, "/simulator/")[0] == 404
    assert get(server, f"{PYODIDE}/pyodide.mjs")[0] == 404
    status, headers, body = get(server, "/favicon.ico")
    assert (status, body) == (204, b"")
    assert "Content-Length" not in headers


# -- caching -------------------------------------------------------------------------------------


def test_runtime_is_immutable_and_app_files_revalidate(server: CardServer) -> None:
    _, runtime, _ = get(server, f"{PYODIDE}/pyodide.asm.wasm")
    assert runtime["Cache-Control"] == "public, max-age=31536000, immutable"
    for path in ("/", "/main.py", "/static/app.css", "/simulator/"):
        _, headers, _ = get(server, path)
        assert headers["Cache-Control"] == "no-cache", path
        assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"]), path
        assert headers["Last-Modified"].endswith(" GMT")
    assert get(server, "/main.py")[1]["ETag"] != get(server, "/callcard/app.py")[1]["ETag"]


def test_if_none_match_gives_304(serve: ServerFactory, project: Path) -> None:
    server = serve()
    _, headers, _ = get(server, "/main.py")
    etag = headers["ETag"]
    status, not_modified, body = get(server, "/main.py", If_None_Match=etag)
    assert (status, body) == (304, b"")
    assert not_modified["ETag"] == etag
    assert not_modified["Cache-Control"] == "no-cache"
    assert "Content-Length" not in not_modified
    assert "Content-Type" not in not_modified
    assert get(server, "/main.py", If_None_Match=f'"other", W/{etag}')[0] == 304
    assert get(server, "/main.py", If_None_Match='"something-else"')[0] == 200
    # A POST of the page is Bitrix24 opening the app: always the full page.
    _, index_headers, _ = get(server, "/")
    post = request(
        server, "POST", "/", body=b"a=1", headers={"If-None-Match": index_headers["ETag"]}
    )
    assert post[0] == 200
    # A changed file has a new ETag, so the old one no longer matches.
    _write(project / "main.py", MAIN_PY + "# changed\n")
    status, changed, body = get(server, "/main.py", If_None_Match=etag)
    assert status == 200
    assert changed["ETag"] != etag
    assert body.endswith(b"# changed\n")


def test_if_modified_since_gives_304(server: CardServer, shared_project: Path) -> None:
    mtime = (shared_project / "main.py").stat().st_mtime
    assert get(server, "/main.py", If_Modified_Since=formatdate(mtime + 60, usegmt=True))[0] == 304
    assert get(server, "/main.py", If_Modified_Since=formatdate(mtime - 60, usegmt=True))[0] == 200
    assert get(server, "/main.py", If_Modified_Since="not a date")[0] == 200
    runtime = f"{PYSCRIPT}/core.js"
    assert (
        get(server, runtime, If_Modified_Since=formatdate(time.time() + 60, usegmt=True))[0] == 304
    )


# -- compression -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("identity", False),
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("gzip;q=0", False),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),
        ("deflate, br", False),
    ],
)
def test_accept_encoding_parsing(header: str | None, expected: bool) -> None:
    assert AcceptEncoding.parse(header).allows("gzip") is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, []),
        ("", []),
        ("identity", []),
        ("gzip, deflate, br, zstd", ["br", "gzip"]),  # what Chromium sends: a tie, br first
        ("br;q=1.0, gzip;q=0.8", ["br", "gzip"]),
        ("gzip;q=1.0, br;q=0.5", ["gzip", "br"]),  # the client's order wins over ours
        ("x-gzip;q=0.3, br;q=0.2", ["gzip", "br"]),
        ("br;q=0, gzip", ["gzip"]),
        ("br; q=0.000, gzip;q=0.001", ["gzip"]),
        ("BR", ["br"]),
        ("br", ["br"]),
        ("*", ["br", "gzip"]),
        ("*;q=0.5, gzip", ["gzip", "br"]),
        ("*;q=0", []),
        ("*, br;q=0", ["gzip"]),
        ("br;q=abc, gzip", ["gzip"]),  # malformed, or out of [0, 1]: a refusal
        ("br;q=2, gzip", ["gzip"]),
        ("br;q=nan, gzip", ["gzip"]),
        ("deflate, zstd", []),
        (" , ;q=1, br", ["br"]),
    ],
)
def test_accept_encoding_ranking(header: str | None, expected: list[str]) -> None:
    assert AcceptEncoding.parse(header).ranked(("br", "gzip")) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, True),
        ("gzip", True),  # identity is acceptable unless refused
        ("identity;q=0", False),
        ("*;q=0", False),
        ("*;q=0, identity", True),
        ("identity;q=0.5, *;q=0", True),
    ],
)
def test_accept_encoding_identity(header: str | None, expected: bool) -> None:
    assert AcceptEncoding.parse(header).allows("identity") is expected


def test_brotli_copy_is_kept_only_if_it_beats_gzip() -> None:
    assert brotli_pays_off(1000, 400, 350)
    assert not brotli_pays_off(1000, 400, 400)  # as good as gzip: no second copy
    assert not brotli_pays_off(1000, 1005, 995)  # smaller than gzip, but saves under 1 %


def test_app_files_are_gzipped_when_accepted(server: CardServer) -> None:
    status, headers, body = get(server, "/main.py", Accept_Encoding="gzip, br")
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert int(headers["Content-Length"]) == len(body) < len(MAIN_PY)
    assert gzip.decompress(body) == MAIN_PY.encode()
    _, plain_headers, plain = get(server, "/main.py")
    assert "Content-Encoding" not in plain_headers
    assert plain_headers["Vary"] == "Accept-Encoding"
    assert plain == MAIN_PY.encode()
    assert plain_headers["ETag"] != headers["ETag"]  # different bytes, different strong ETag
    _, refused, _ = get(server, "/main.py", Accept_Encoding="gzip;q=0")
    assert "Content-Encoding" not in refused
    _, png, _ = get(server, "/static/logo.png", Accept_Encoding="gzip")
    assert "Content-Encoding" not in png


def test_runtime_gzip_copy_is_kept_on_disk_and_rebuilt_when_the_source_changes(
    serve: ServerFactory, project: Path
) -> None:
    server = serve()
    path = f"{PYSCRIPT}/core.js"
    copy = project / ".cache" / "precompressed" / path.lstrip("/")
    copy = copy.with_name(copy.name + ".gz")
    assert not copy.exists()
    assert "Content-Encoding" not in get(server, path)[1]  # identity does not need the copy
    assert not copy.exists()
    status, headers, body = get(server, path, Accept_Encoding="gzip")
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(body) == CORE_JS.encode()
    assert copy.is_file()
    assert copy.read_bytes() == body
    assert not list(copy.parent.glob("*.tmp"))  # written via a temp file, then renamed

    built = copy.stat().st_mtime_ns
    assert gzip.decompress(get(server, path, Accept_Encoding="gzip")[2]) == CORE_JS.encode()
    assert copy.stat().st_mtime_ns == built  # fresh copy reused, not rebuilt

    source = project / "node_modules/@pyscript/core/dist/core.js"
    new_js = "export const core = 2;\n" * 200  # same size: only the mtime tells
    assert len(new_js) == len(CORE_JS)
    source.write_text(new_js, encoding="utf-8")
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    _, _, body = get(server, path, Accept_Encoding="gzip")
    assert gzip.decompress(body) == new_js.encode()
    assert gzip.decompress(copy.read_bytes()) == new_js.encode()


def test_stdlib_zip_is_gzipped_only_if_that_makes_it_smaller(
    serve: ServerFactory, project: Path
) -> None:
    server = serve()
    path = f"{PYODIDE}/python_stdlib.zip"
    _, headers, body = get(server, path, Accept_Encoding="gzip")
    assert "Content-Encoding" not in headers  # random bytes: gzip would only add overhead
    assert body == (project / "node_modules/pyodide/python_stdlib.zip").read_bytes()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("os.py", "import sys\n" * 500)
    _write(project / "node_modules/pyodide/python_stdlib.zip", buffer.getvalue())
    _, headers, body = get(server, path, Accept_Encoding="gzip")
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == buffer.getvalue()


def test_wasm_is_gzipped_and_head_matches_get(server: CardServer) -> None:
    path = f"{PYODIDE}/pyodide.asm.wasm"
    for encoding in ("gzip", "identity"):
        _, get_headers, body = get(server, path, Accept_Encoding=encoding)
        status, head_headers, head_body = request(
            server, "HEAD", path, headers={"Accept-Encoding": encoding}
        )
        assert status == 200
        assert head_body == b""
        assert head_headers["Content-Length"] == get_headers["Content-Length"] == str(len(body))
        assert head_headers.get("Content-Encoding") == get_headers.get("Content-Encoding")
    assert get_headers.get("Content-Encoding") is None


def test_head_of_the_page(server: CardServer) -> None:
    status, headers, body = request(server, "HEAD", "/")
    assert (status, body) == (200, b"")
    assert int(headers["Content-Length"]) == len(INDEX_HTML.encode())
    assert "Content-Security-Policy" in headers
    # http.client never reads a HEAD body, so look at the bytes on the wire.
    for path in (b"/", f"{PYODIDE}/pyodide.asm.wasm".encode(), b"/nope"):
        raw = raw_exchange(server, b"HEAD " + path + b" HTTP/1.1\r\nConnection: close\r\n\r\n")
        assert raw.endswith(b"\r\n\r\n"), path
        assert raw.count(b"\r\n\r\n") == 1, path


def test_warm_builds_every_runtime_copy_once(project: Path) -> None:
    copies = warm(project)
    by_url = {copy.url_path: copy for copy in copies}
    assert set(by_url) == {
        f"{PYSCRIPT}/core.js",
        f"{PYSCRIPT}/core.css",
        f"{PYODIDE}/pyodide.mjs",
        f"{PYODIDE}/pyodide.asm.mjs",
        f"{PYODIDE}/pyodide.asm.wasm",
        f"{PYODIDE}/python_stdlib.zip",
        f"{PYODIDE}/pyodide-lock.json",
        "/app-bundle.zip",  # the app's Python, built from the project's packages
        f"{PYODIDE}/callcard-boot.mjs",  # written for the archive served (boot_module.py)
    }
    for copy in copies:
        assert copy.path.is_relative_to(project / ".cache" / "precompressed")
        assert copy.gzip_size == copy.path.stat().st_size
    wasm_copy = by_url[f"{PYODIDE}/pyodide.asm.wasm"].path
    assert gzip.decompress(wasm_copy.read_bytes()) == WASM
    assert by_url[f"{PYODIDE}/pyodide.asm.wasm"].served_gzipped
    assert not by_url[f"{PYODIDE}/python_stdlib.zip"].served_gzipped
    built = {copy.url_path: copy.path.stat().st_mtime_ns for copy in copies}
    assert {copy.url_path: copy.path.stat().st_mtime_ns for copy in warm(project)} == built


def _brotli_copies(project: Path, url_path: str) -> list[Path]:
    """The .br files (any stamp) of one runtime URL in the project's cache."""
    copy = project / ".cache" / "precompressed" / url_path.lstrip("/")
    return sorted(copy.parent.glob(copy.name + ".*.br")) if copy.parent.is_dir() else []


def test_warm_builds_brotli_copies_that_beat_gzip_once(project: Path) -> None:
    brotli = pytest.importorskip("brotli")
    copies = {copy.url_path: copy for copy in warm(project)}
    wasm = copies[f"{PYODIDE}/pyodide.asm.wasm"]
    assert wasm.served_brotli
    assert wasm.brotli_path is not None and wasm.brotli_size is not None
    assert wasm.brotli_path.name.endswith(".br")
    assert brotli.decompress(wasm.brotli_path.read_bytes()) == WASM
    assert wasm.brotli_size == wasm.brotli_path.stat().st_size < wasm.gzip_size
    assert wasm.wire_size(brotli=True) == wasm.brotli_size
    assert wasm.wire_size(brotli=False) == wasm.gzip_size
    stdlib = copies[f"{PYODIDE}/python_stdlib.zip"]  # random bytes: no copy pays off
    assert not stdlib.served_brotli and stdlib.brotli_path is None
    assert stdlib.wire_size(brotli=True) == stdlib.original_size
    # Tried once: an empty marker remembers it, so the next warm() does not try again.
    (marker,) = _brotli_copies(project, stdlib.url_path)
    assert marker.stat().st_size == 0
    cache = project / ".cache" / "precompressed"
    assert not list(cache.rglob("*.tmp"))
    built = {path: path.stat().st_mtime_ns for path in cache.rglob("*.br")}
    assert len(built) == len(copies)
    again = {copy.url_path: copy for copy in warm(project)}
    assert {path: path.stat().st_mtime_ns for path in cache.rglob("*.br")} == built
    assert again[wasm.url_path].brotli_size == wasm.brotli_size


def test_runtime_files_are_served_as_brotli_after_warm(serve: ServerFactory, project: Path) -> None:
    brotli = pytest.importorskip("brotli")
    warm(project)
    server = serve()
    for path, original in [
        (f"{PYODIDE}/pyodide.asm.wasm", WASM),
        (f"{PYSCRIPT}/core.js", CORE_JS.encode()),
    ]:
        status, headers, body = get(server, path, Accept_Encoding="gzip, deflate, br, zstd")
        assert status == 200
        assert headers["Content-Encoding"] == "br"
        assert headers["Vary"] == "Accept-Encoding"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert int(headers["Content-Length"]) == len(body)
        assert brotli.decompress(body) == original
        _, head_headers, head_body = request(
            server, "HEAD", path, headers={"Accept-Encoding": "br"}
        )
        assert head_body == b""
        assert head_headers["Content-Encoding"] == "br"
        assert head_headers["Content-Length"] == headers["Content-Length"]

        # gzip-only clients, and those that rank gzip higher, still get gzip; others identity.
        for accept in ("gzip", "gzip;q=1, br;q=0.5", "br;q=0, gzip"):
            _, gz_headers, gz_body = get(server, path, Accept_Encoding=accept)
            assert gz_headers["Content-Encoding"] == "gzip", accept
            assert gzip.decompress(gz_body) == original
        _, plain_headers, plain = get(server, path)
        assert "Content-Encoding" not in plain_headers
        assert plain == original
        # Same validators whatever the coding: a 304 from one applies to all.
        assert headers["Last-Modified"] == gz_headers["Last-Modified"]
        assert headers["Last-Modified"] == plain_headers["Last-Modified"]
        assert "ETag" not in headers
        status, not_modified, _ = get(
            server, path, Accept_Encoding="br", If_Modified_Since=headers["Last-Modified"]
        )
        assert status == 304
        assert not_modified["Vary"] == "Accept-Encoding"
        assert "Content-Encoding" not in not_modified
    # Not worth a copy: identity, whatever the client accepts.
    _, headers, _ = get(server, f"{PYODIDE}/python_stdlib.zip", Accept_Encoding="br, gzip")
    assert "Content-Encoding" not in headers


def test_a_request_never_builds_a_brotli_copy(serve: ServerFactory, project: Path) -> None:
    server = serve()
    path = f"{PYODIDE}/pyodide.asm.wasm"
    _, headers, body = get(server, path, Accept_Encoding="br")
    assert "Content-Encoding" not in headers  # no copy: the bytes as they are, not a wait
    assert body == WASM
    _, headers, body = get(server, path, Accept_Encoding="br, gzip")
    assert headers["Content-Encoding"] == "gzip"  # gzip copies are still made on demand
    assert gzip.decompress(body) == WASM
    assert not list((project / ".cache").rglob("*.br"))


def test_a_stale_brotli_copy_is_never_served(serve: ServerFactory, project: Path) -> None:
    brotli = pytest.importorskip("brotli")
    warm(project)
    server = serve()
    path = f"{PYSCRIPT}/core.js"
    assert get(server, path, Accept_Encoding="br")[1]["Content-Encoding"] == "br"
    (old_copy,) = _brotli_copies(project, path)

    source = project / "node_modules/@pyscript/core/dist/core.js"
    new_js = "export const core = 2;\n" * 200  # same size: only the mtime tells
    source.write_text(new_js, encoding="utf-8")
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    _, headers, body = get(server, path, Accept_Encoding="br")
    assert "Content-Encoding" not in headers
    assert body == new_js.encode()
    _, headers, body = get(server, path, Accept_Encoding="br, gzip")
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == new_js.encode()

    warm(project)  # the next install: a copy of the new version, the old one is gone
    (new_copy,) = _brotli_copies(project, path)
    assert new_copy != old_copy
    _, headers, body = get(server, path, Accept_Encoding="br")
    assert headers["Content-Encoding"] == "br"
    assert brotli.decompress(body) == new_js.encode()


def test_without_the_brotli_module_everything_is_gzip_as_before(
    serve: ServerFactory, project: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "brotli", None)  # `import brotli` now raises ImportError
    from cardserver.__main__ import main

    assert main(["--root", str(project), "--precompress-only"]) == 0
    assert "no .br copies" in capsys.readouterr().out
    copies = warm(project)
    assert all(copy.brotli_path is None and not copy.served_brotli for copy in copies)
    assert not list((project / ".cache").rglob("*.br"))
    server = serve()
    path = f"{PYODIDE}/pyodide.asm.wasm"
    _, headers, body = get(server, path, Accept_Encoding="gzip, deflate, br, zstd")
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == WASM
    _, headers, _ = get(server, "/main.py", Accept_Encoding="br, gzip")
    assert headers["Content-Encoding"] == "gzip"


def test_app_files_stay_gzip_only(server: CardServer) -> None:
    """Small app files are compressed in memory per change: gzip, never br."""
    for accept in ("br", "br, gzip", "*"):
        _, headers, body = get(server, "/main.py", Accept_Encoding=accept)
        if accept == "br":
            assert "Content-Encoding" not in headers
            assert body == MAIN_PY.encode()
        else:
            assert headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(body) == MAIN_PY.encode()


def test_big_app_files_are_streamed_with_last_modified(
    server: CardServer, shared_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cardserver.files.SNAPSHOT_LIMIT", 16)
    status, headers, body = get(server, "/static/app.css", Accept_Encoding="gzip")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (shared_project / "static/app.css").read_bytes()
    assert get(server, "/static/app.css", If_Modified_Since=headers["Last-Modified"])[0] == 304


# -- methods and limits --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT", "FOO"])
def test_other_methods_are_405(server: CardServer, method: str) -> None:
    status, headers, body = request(server, method, "/", body=b"x=1")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD, POST"
    assert INDEX_HTML.encode() not in body
    status, headers, _ = request(server, method, "/main.py")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/main.py", "/static/app.css", f"{PYSCRIPT}/core.js", "/nope"])
def test_post_is_only_for_the_page(server: CardServer, path: str) -> None:
    status, headers, _ = request(server, "POST", path, body=b"AUTH_ID=x")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


def test_oversized_body_gets_413_without_being_read(server: CardServer) -> None:
    start = time.monotonic()
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n"
    raw = raw_exchange(server, head)  # the 10 MiB never come: the server must not wait for them
    assert status_of(raw) == 413
    assert b"Connection: close" in raw
    assert time.monotonic() - start < 2


def test_body_limit_is_configurable_and_expect_continue_is_not_confirmed(
    serve: ServerFactory,
) -> None:
    server = serve(max_body=100)
    assert request(server, "POST", "/", body=b"a" * 100)[0] == 200
    assert request(server, "POST", "/", body=b"a" * 101)[0] == 413
    raw = raw_exchange(
        server,
        b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 413 ")  # no "100 Continue" first


def test_expect_continue_within_the_limit(server: CardServer) -> None:
    with socket.create_connection(server.server_address[:2], timeout=5) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n"
            b"Connection: close\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"a=1")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert b"HTTP/1.1 200 OK" in data


def test_a_bug_answers_500_and_is_logged(
    serve: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = io.StringIO()
    server = serve(log_stream=log, quiet=True)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.files, "open", broken)
    status, headers, body = get(server, "/main.py?AUTH_ID=query-secret")
    assert (status, body) == (500, b"500 Internal Server Error\n")
    assert headers["Connection"] == "close"
    assert "RuntimeError: boom" in log.getvalue()
    assert "query-secret" not in log.getvalue()
    assert get(server, "/nope")[0] == 404  # the server lives on


# -- security headers --------------------------------------------------------------------------


def _csp_directives(headers: http.client.HTTPMessage) -> dict[str, str]:
    policy = headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_security_headers_on_every_response(server: CardServer) -> None:
    for method, path in [
        ("GET", "/"),
        ("GET", "/main.py"),
        ("GET", f"{PYODIDE}/pyodide.asm.wasm"),
        ("GET", "/nope"),
        ("PUT", "/"),
        ("GET", "/favicon.ico"),
    ]:
        _, headers, _ = request(server, method, path)
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert "X-Frame-Options" not in headers, path
        assert "Python" not in headers["Server"]


def test_csp_on_html_with_the_bitrix24_frame_ancestors(server: CardServer) -> None:
    _, headers, _ = get(server, "/")
    directives = _csp_directives(headers)
    ancestors = directives["frame-ancestors"].split()
    assert ancestors == list(cardserver.BITRIX24_FRAME_ANCESTORS)
    assert "'self'" in ancestors
    assert "https://*.bitrix24.ru" in ancestors
    assert "https://*.bitrix24.com.br" in ancestors
    assert directives["default-src"] == "'self'"
    assert {"'wasm-unsafe-eval'", "'unsafe-eval'", "https://api.bitrix24.com"} <= set(
        directives["script-src"].split()
    )
    assert directives["worker-src"] == "'self' blob:"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'none'"
    assert "frame-src" not in directives
    assert "Content-Security-Policy" not in get(server, "/main.py")[1]
    simulator = _csp_directives(get(server, "/simulator/")[1])
    assert simulator["frame-src"] == "'self'"


def test_frame_ancestors_can_be_overridden_and_csp_disabled(serve: ServerFactory) -> None:
    custom = serve(frame_ancestors="'self'   https://portal.example.com")
    directives = _csp_directives(get(custom, "/")[1])
    assert directives["frame-ancestors"] == "'self' https://portal.example.com"
    off = serve(csp=False)
    assert "Content-Security-Policy" not in get(off, "/")[1]
    with pytest.raises(ValueError):
        serve(frame_ancestors="https://a.example; script-src *")


# -- the simulator's card page ------------------------------------------------------------------

LIBRARY_TAG = '<script src="//api.bitrix24.com/api/v1/"></script>'
APP_INDEX_HTML = (
    '<!doctype html>\n<html lang="en" data-app-state="loading">\n<head>\n'
    '  <meta charset="utf-8">\n  <link rel="stylesheet" href="./static/app.css">\n'
    f"  {LIBRARY_TAG}\n"
    '  <script type="module" src="./runtime/pyscript-0.7.31/core.js"></script>\n'
    '</head>\n<body><main id="card"></main>\n'
    '  <script type="py" src="./main.py" config="./pyscript.toml"></script>\n</body>\n</html>\n'
)


def test_simulator_card_is_the_index_with_the_fake_library_and_a_base(
    serve: ServerFactory, project: Path
) -> None:
    _write(project / "index.html", APP_INDEX_HTML)
    server = serve()
    status, headers, body = get(server, "/simulator/card/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    # <base> opens <head>, so every relative URL below resolves from the app's root.
    assert page.startswith('<!doctype html>\n<html lang="en" data-app-state="loading">\n<head>\n'
                           '  <base href="../../">\n  <meta charset="utf-8">')
    assert LIBRARY_TAG not in page
    assert '<script src="./simulator/bx24-fake.js"></script>' in page
    # PyScript resolves `config` against location.href, not the base: it climbs by itself.
    assert 'config="../../pyscript.toml"' in page
    # Nothing else changed; the shipped page itself is untouched.
    assert page.replace('  <base href="../../">\n', "").replace(
        "./simulator/bx24-fake.js", "//api.bitrix24.com/api/v1/"
    ).replace("../../pyscript.toml", "./pyscript.toml") == APP_INDEX_HTML
    assert get(server, "/")[2] == APP_INDEX_HTML.encode()


def test_simulator_card_follows_index_html_on_disk_and_revalidates(
    serve: ServerFactory, project: Path
) -> None:
    _write(project / "index.html", APP_INDEX_HTML)
    server = serve()
    _, headers, _ = get(server, "/simulator/card/")
    assert headers["Cache-Control"] == "no-cache"
    etag = headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert etag != get(server, "/")[1]["ETag"]  # other bytes, other tag
    assert get(server, "/simulator/card/", If_None_Match=etag)[0] == 304
    changed = APP_INDEX_HTML.replace("<main id=\"card\">", "<main id=\"card\" class=\"v2\">")
    _write(project / "index.html", changed)
    os.utime(project / "index.html", ns=(1, 1))  # a new mtime even on a coarse clock
    status, headers, body = get(server, "/simulator/card/", If_None_Match=etag)
    assert status == 200
    assert b'class="v2"' in body
    assert headers["ETag"] != etag


def test_simulator_card_fails_loudly_without_the_library_tag(
    serve: ServerFactory, project: Path
) -> None:
    log = io.StringIO()
    server = serve(log_stream=log, quiet=True)  # INDEX_HTML has no library tag
    status, _, body = get(server, "/simulator/card/")
    assert (status, body) == (500, b"500 Internal Server Error\n")
    assert "simulator card page: index.html has no" in log.getvalue()
    assert "//api.bitrix24.com/api/v1/" in log.getvalue()
    assert "Traceback" not in log.getvalue()
    assert get(server, "/")[0] == 200  # the app itself is unaffected


def test_simulator_card_csp_allows_its_base_and_only_the_simulator_as_parent(
    serve: ServerFactory, project: Path
) -> None:
    _write(project / "index.html", APP_INDEX_HTML)
    server = serve()
    directives = _csp_directives(get(server, "/simulator/card/")[1])
    assert directives["base-uri"] == "'self'"
    assert directives["frame-ancestors"] == "'self'"
    assert directives["script-src"] == _csp_directives(get(server, "/")[1])["script-src"]
    assert _csp_directives(get(server, "/")[1])["base-uri"] == "'none'"


@pytest.mark.parametrize("path", ["/simulator/card", "/simulator/card/index.html",
                                  "/simulator/card/main.py", "/simulator/card/x/"])
def test_only_the_simulator_card_page_itself_is_served(
    serve: ServerFactory, project: Path, path: str
) -> None:
    _write(project / "index.html", APP_INDEX_HTML)
    assert get(serve(), path)[0] == 404


def test_the_runtime_is_also_served_below_the_simulator_card(server: CardServer) -> None:
    """PyScript asks for Pyodide relative to the frame's location, whatever the <base> says."""
    status, headers, body = get(server, f"/simulator/card{PYODIDE}/pyodide.asm.wasm")
    assert (status, body) == (200, WASM)
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert get(server, f"/simulator/card{PYSCRIPT}/core.js")[2] == CORE_JS.encode()
    for path in (f"/simulator/card{PYODIDE}/README.md", "/simulator/card/runtime/pyodide-1/x.js",
                 f"/simulator/card{PYSCRIPT}/../../../.git/config"):
        assert get(server, path)[0] == 404, path


def test_simulator_card_is_not_postable(serve: ServerFactory, project: Path) -> None:
    _write(project / "index.html", APP_INDEX_HTML)
    status, headers, _ = request(serve(), "POST", "/simulator/card/", body=b"AUTH_ID=x")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


def test_the_real_index_html_can_be_turned_into_the_simulator_card() -> None:
    from cardserver.simulator_card import simulator_card_page

    page = simulator_card_page((REPO_ROOT / "index.html").read_bytes()).decode()
    assert '<script src="./simulator/bx24-fake.js"></script>' in page
    assert "api.bitrix24.com" not in page.replace("<!--", "").split("-->")[-1]
    assert (REPO_ROOT / "simulator" / "bx24-fake.js").is_file()


def test_simulator_card_rewrite_refuses_a_page_it_cannot_trust() -> None:
    from cardserver.simulator_card import SimulatorCardError, simulator_card_page

    with pytest.raises(SimulatorCardError, match="no <head>"):
        simulator_card_page(f"<html>{LIBRARY_TAG}</html>".encode())
    with pytest.raises(SimulatorCardError, match=r"api\.bitrix24\.com"):
        simulator_card_page(b"<html><head><script src='//api.bitrix24.com/api/v1/'></script>")
    # <header> is not <head>; an absolute config URL is left alone.
    page = simulator_card_page(
        f'<head data-x="1"><header></header>{LIBRARY_TAG}'
        '<script type="py" config="/pyscript.toml"></script>'.encode()
    )
    assert page.startswith(b'<head data-x="1">\n  <base href="../../"><header>')
    assert b'config="/pyscript.toml"' in page


# -- concurrency ---------------------------------------------------------------------------------


def test_a_stalled_client_does_not_block_others_and_is_dropped(serve: ServerFactory) -> None:
    server = serve(timeout=0.3)
    with socket.create_connection(server.server_address[:2], timeout=5) as stalled:
        stalled.sendall(b"GET /main.py HT")  # ... and nothing more
        start = time.monotonic()
        for _ in range(3):
            assert get(server, "/")[0] == 200
        assert time.monotonic() - start < 1
        assert stalled.recv(100) == b""  # closed by the server's timeout, without an answer
        assert time.monotonic() - start < 3


def test_connections_are_kept_alive(server: CardServer) -> None:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        for path in ("/", "/main.py", f"{PYSCRIPT}/core.js", "/nope", "/static/app.css"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert not response.will_close, path
    finally:
        connection.close()


# -- CLI and TLS ----------------------------------------------------------------------------------


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PORT", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "cardserver", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    second = process.stdout.readline()
    match = re.fullmatch(r"Call card app:  (http://127\.0\.0\.1:\d+/)\n", first)
    assert match, (first, process.stderr.read() if process.poll() is not None else "")
    assert second == f"Simulator:      {match.group(1)}simulator/\n"
    return process, match.group(1)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_cli_starts_answers_and_exits_cleanly(project: Path, stop: signal.Signals) -> None:
    process, url = _start_cli("--root", str(project), "--port", "0", "--host", "127.0.0.1")
    try:
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/?AUTH_ID=query-token")
        response = connection.getresponse()
        assert response.status == 200
        assert response.read() == INDEX_HTML.encode()
        # The log line follows the response; once the next answer on this connection is in,
        # the first one's line has surely been written.
        connection.request("GET", "/main.py")
        assert connection.getresponse().read() == MAIN_PY.encode()
        connection.close()
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert re.search(r"GET / 200 \d+B", stderr)
    assert "query-token" not in stderr


def test_cli_precompress_only_builds_the_cache_and_exits(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cardserver.__main__ import main

    assert main(["--root", str(project), "--precompress-only"]) == 0
    summary = capsys.readouterr().out
    assert re.search(
        r"Precompressed 9 files \(runtime, app bundle, boot module\) .* MB on the wire", summary
    )
    if cardserver.compression.brotli_module() is not None:
        assert re.search(r"Brotli: [1-9] of 9 files have a .br copy .* MB on the wire", summary)
    assert (project / f".cache/precompressed{PYODIDE}/pyodide.asm.wasm.gz").is_file()
    assert (project / f".cache/precompressed{PYSCRIPT}/core.js.gz").is_file()
    assert not (project / f".cache/precompressed{PYSCRIPT}/core.js.map.gz").exists()


def test_cli_precompress_only_without_a_runtime_says_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cardserver.__main__ import main

    shutil.rmtree(project / "node_modules")
    assert main(["--root", str(project), "--precompress-only"]) == 0
    assert "No runtime files found (has `npm ci` run?)" in capsys.readouterr().out
    assert not (project / ".cache" / "precompressed").exists()


def test_cli_refuses_half_a_tls_configuration(project: Path) -> None:
    from cardserver.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--root", str(project), "--cert", str(project / "cert.pem")])
    assert exit_info.value.code == 2


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls(serve: ServerFactory, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    server = serve(certfile=cert, keyfile=key)
    assert server.url.startswith("https://127.0.0.1:")
    host, port = server.server_address[:2]
    context = ssl._create_unverified_context()
    # A client that connects and never says hello must not hold up the others.
    with socket.create_connection((host, port), timeout=5):
        connection = http.client.HTTPSConnection(host, port, timeout=5, context=context)
        try:
            connection.request("GET", "/main.py", headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
    assert response.status == 200
    assert gzip.decompress(body) == MAIN_PY.encode()
    connection = http.client.HTTPSConnection(host, port, timeout=5, context=context)
    try:
        connection.request("GET", f"{PYODIDE}/pyodide.asm.wasm")
        assert connection.getresponse().read() == WASM  # streamed through the TLS socket
    finally:
        connection.close()
    with pytest.raises((http.client.HTTPException, ConnectionError)):  # plain HTTP to TLS port
        request(server, "GET", "/")


def test_the_install_page_answers_post_like_get_and_its_files_are_served(
    server: CardServer,
) -> None:
    """Bitrix24 opens the install URL with a form POST too (tokens in the body)."""
    status, headers, body = get(server, "/install.html")
    assert status == 200 and body.startswith(b"<!doctype html><title>Install")
    assert "frame-ancestors" in headers["Content-Security-Policy"]
    form = b"AUTH_ID=secret&REFRESH_ID=secret2&DOMAIN=example.bitrix24.com"
    posted = request(server, "POST", "/install.html", body=form,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted[0] == 200 and posted[2] == body
    for path in ("/install.py", "/install.toml"):
        assert get(server, path)[0] == 200
    # Only the two pages take POST.
    assert request(server, "POST", "/install.py", body=b"x=1")[0] == 405
