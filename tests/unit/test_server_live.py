"""The server on real sockets, under uvicorn (cardserver/serve.py, python -m cardserver): slow,
idle and trickling clients never hold it up, tokens never reach its log, the command line starts,
answers and stops cleanly, and TLS works."""

from __future__ import annotations

import http.client
import io
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cardserver.asgi import Options, create_app
from cardserver.dist import Manifest, build
from cardserver.runtime import read_runtime_versions
from cardserver.serve import BoundedH11Protocol, running

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = read_runtime_versions(ROOT)
TOKENS = {"AUTH_ID": "CanaryAuthLive7f3a", "REFRESH_ID": "CanaryRefreshLive2b9c"}

pytestmark = pytest.mark.skipif(VERSIONS.pyodide is None, reason="npm ci has not run")


class QuickProtocol(BoundedH11Protocol):
    header_timeout = 0.5


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    dist = tmp_path_factory.mktemp("live") / "dist"
    return dist, build(ROOT, dist)


@pytest.fixture(scope="module")
def server(published: tuple[Path, Manifest]) -> Iterator[tuple[str, int]]:
    app = create_app(published[0], Options(body_timeout=0.5))
    with running(app, http=QuickProtocol, timeout_keep_alive=1) as url:
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        yield host, int(port)


def get(address: tuple[str, int], path: str = "/", timeout: float = 5) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds`` (whatever it sends first)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_a_request_is_answered_while_hundreds_of_clients_sit_idle(
    server: tuple[str, int],
) -> None:
    idle = []
    try:
        for index in range(300):
            sock = socket.create_connection(server, timeout=5)
            if index % 2:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # headers never finished
            idle.append(sock)
        started = time.monotonic()
        status, body = get(server)
        assert status == 200 and body.startswith(b"<!doctype html>")
        assert time.monotonic() - started < 2
    finally:
        for sock in idle:
            sock.close()


def test_headers_that_trickle_in_are_cut_off(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        deadline = time.monotonic() + 3
        cut = False
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"X-Slow: y\r\n")
            except OSError:
                cut = True
                break
            time.sleep(0.1)
        assert cut or closed_within(sock, 1.0), "a client trickling headers kept its connection"


def test_an_idle_kept_alive_connection_is_closed_and_a_live_one_serves_again(
    server: tuple[str, int],
) -> None:
    connection = http.client.HTTPConnection(*server, timeout=5)
    try:
        for _ in range(2):  # two requests on one connection
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
        assert connection.sock is not None
        assert closed_within(connection.sock, 3.0)  # timeout_keep_alive (1 s here)
    finally:
        connection.close()


def test_a_post_body_that_trickles_in_is_cut_off(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n\r\nA=1")
        sock.settimeout(5)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_ten_gigabyte_body_is_refused_at_once(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")


def test_tokens_in_every_place_a_request_carries_them_never_reach_the_log(
    published: tuple[Path, Manifest],
) -> None:
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    loggers = [logging.getLogger(n) for n in ("uvicorn.access", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        with running(create_app(published[0]), log_config=None, log_level=logging.INFO) as url:
            host, port = url.removeprefix("http://").rstrip("/").split(":")
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            body = "&".join(f"{k}={v}" for k, v in TOKENS.items())
            connection.request("POST", "/", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"auth={TOKENS['AUTH_ID']}", "Authorization": TOKENS["REFRESH_ID"]})
            assert connection.getresponse().read()
            connection.close()
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    text = log.getvalue()
    assert '"POST / HTTP/1.1" 200' in text  # the log was captured
    for token in TOKENS.values():
        assert token not in text


# --------------------------------------------------------------------------- the command line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[str], scheme: str = "http") -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not start listening")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_command_line_starts_answers_and_stops_cleanly(
    published: tuple[Path, Manifest], stop: signal.Signals
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cardserver", "--dist", str(published[0]), "--port", str(port),
         "--dev", "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_for(port, process)
        assert get(("127.0.0.1", port))[0] == 200
        assert get(("127.0.0.1", port), "/simulator/")[0] == 200
        process.send_signal(stop)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert f"Call card app:  http://127.0.0.1:{port}/" in output
    assert f"Simulator:      http://127.0.0.1:{port}/simulator/" in output


def test_the_command_line_says_what_to_do_without_a_build(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "cardserver", "--dist", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "make dist" in result.stderr


def test_the_command_line_refuses_half_a_tls_configuration(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "cardserver", "--cert", str(tmp_path / "c")],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "--cert and --key go together" in result.stderr


def test_tls(published: tuple[Path, Manifest], tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )
    app = create_app(published[0])
    with running(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        assert url.startswith("https://127.0.0.1:")
        host, port = url.removeprefix("https://").rstrip("/").split(":")
        context = ssl._create_unverified_context()
        # A client that connects and never says hello must not hold up the others.
        with socket.create_connection((host, int(port)), timeout=5):
            connection = http.client.HTTPSConnection(host, int(port), timeout=5, context=context)
            connection.request("GET", "/" + published[1].path("main.py"))
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == (ROOT / "main.py").read_bytes()
            connection.close()
