"""The server (cardserver/asgi.py): what it answers, to whom, with which headers, from the
publish folder `make dist` built. Run in-process with Starlette's TestClient; what needs real
sockets (idle and trickling clients, the command line, TLS) is in test_server_live.py."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cardserver.asgi import Options, create_app
from cardserver.dist import Manifest, build
from cardserver.runtime import read_runtime_versions
from cardserver.security import (
    BITRIX24_FRAME_ANCESTORS,
    DEFAULT_FRAME_ANCESTORS,
    content_security_policy,
    inline_script_sources,
)

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = read_runtime_versions(ROOT)
PYODIDE = f"runtime/pyodide-{VERSIONS.pyodide}"
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}
TOKENS = {"AUTH_ID": "CanaryAuth01", "REFRESH_ID": "CanaryRefresh02", "member_id": "m1"}

pytestmark = pytest.mark.skipif(VERSIONS.pyodide is None, reason="npm ci has not run")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    dist = tmp_path_factory.mktemp("server") / "dist"
    return dist, build(ROOT, dist)


@pytest.fixture(scope="module")
def client(published: tuple[Path, Manifest]) -> Iterator[TestClient]:
    with TestClient(create_app(published[0], Options()), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def dev_client(published: tuple[Path, Manifest]) -> Iterator[TestClient]:
    with TestClient(create_app(published[0], Options(dev=True))) as c:
        yield c


def url(manifest: Manifest, logical: str) -> str:
    return "/" + manifest.path(logical)


def assert_security_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (response, name)


# --------------------------------------------------------------------------- the pages


def test_get_and_post_of_the_root_answer_the_same_page(client: TestClient) -> None:
    got = client.get("/")
    posted = client.post("/", data={"PLACEMENT": "CALL_CARD", "PLACEMENT_OPTIONS": "{}",
                                    **TOKENS})
    assert got.status_code == posted.status_code == 200
    assert got.content == posted.content == client.get("/index.html").content
    assert got.headers["content-type"] == "text/html; charset=utf-8"
    assert got.headers["cache-control"] == "no-cache"
    for token in TOKENS.values():
        assert token not in posted.text  # nothing of the body is ever echoed


def test_the_install_page_answers_post_like_get(client: TestClient) -> None:
    assert client.post("/install.html", data=TOKENS).content == client.get("/install.html").content


def test_pages_revalidate_with_a_content_etag(client: TestClient) -> None:
    first = client.get("/")
    etag = first.headers["etag"]
    assert etag == f'"{hashlib.sha256(first.content).hexdigest()[:32]}"'
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_of_a_page_has_the_length_and_no_body(client: TestClient) -> None:
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(client.get("/").content))


def test_a_body_over_the_cap_is_refused_without_being_read(client: TestClient) -> None:
    big = client.post("/", content=b"x" * (64 * 1024 + 1),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413
    declared = client.post("/", content=b"x", headers={"Content-Length": str(10 * 2**30)})
    assert declared.status_code == 413
    assert_security_headers(big)


def test_the_body_cap_is_configurable(published: tuple[Path, Manifest]) -> None:
    with TestClient(create_app(published[0], Options(max_body=10))) as small:
        assert small.post("/", content=b"0123456789").status_code == 200
        assert small.post("/", content=b"0123456789!").status_code == 413


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(client: TestClient, method: str) -> None:
    response = client.request(method, "/")
    assert response.status_code == 405
    assert_security_headers(response)


def test_only_the_pages_take_a_post(client: TestClient, published: tuple[Path, Manifest]) -> None:
    assert client.post(url(published[1], "main.py")).status_code == 405
    assert client.post("/healthz").status_code == 405


def test_the_csp_of_the_pages_names_the_portals(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    assert "'wasm-unsafe-eval'" in csp and "https://api.bitrix24.com" in csp
    assert f"frame-ancestors {DEFAULT_FRAME_ANCESTORS}" in csp
    assert all(domain in csp for domain in BITRIX24_FRAME_ANCESTORS)
    assert "form-action 'none'" in csp  # the card submits no forms
    assert "x-frame-options" not in client.get("/").headers


def script_src(csp: str) -> list[str]:
    [directive] = [d for d in csp.split("; ") if d.startswith("script-src ")]
    return directive.split()[1:]


def test_the_handler_page_s_own_inline_scripts_are_allowed_by_their_hashes_and_nothing_else(
    client: TestClient, published: tuple[Path, Manifest],
) -> None:
    page = (published[0] / "pages" / "index.html").read_bytes()
    codes = re.findall(rb"<script>(.*?)</script>", page, re.DOTALL)
    assert len(codes) == 2  # static/face-preload.js, static/early-actions.js
    digests = [f"'sha256-{base64.b64encode(hashlib.sha256(code).digest()).decode()}'"
               for code in codes]
    for response in (client.get("/"), client.post("/", data=CALL)):
        sources = script_src(response.headers["content-security-policy"])
        assert [s for s in sources if s.startswith("'sha256-")] == digests
        assert "'unsafe-inline'" not in sources
    # The install page has no inline script, so its policy allows none.
    assert not any(s.startswith("'sha256-") for s in
                   script_src(client.get("/install.html").headers["content-security-policy"]))


def test_inline_scripts_are_hashed_as_browsers_do_and_added_to_script_src_only() -> None:
    page = ('<script src="./a.js"></script><script type="py" src="./main.py"></script>'
            '<script>\n  go("é");\n</script><SCRIPT type="module">m()</SCRIPT>').encode()
    expected = [f"'sha256-{base64.b64encode(hashlib.sha256(code).digest()).decode()}'"
                for code in ('\n  go("é");\n'.encode(), b"m()")]
    assert inline_script_sources(page) == expected
    plain = content_security_policy("'self'")
    allowed = content_security_policy("'self'", inline_scripts=expected)
    assert allowed == plain.replace("http://api.bitrix24.com;",
                                    f"http://api.bitrix24.com {' '.join(expected)};")
    assert script_src(allowed)[-2:] == expected
    assert inline_script_sources(b"<p>no script</p>") == []
    assert content_security_policy("'self'", inline_scripts=[]) == plain


def test_frame_ancestors_can_be_narrowed_and_the_csp_switched_off(
    published: tuple[Path, Manifest],
) -> None:
    narrow = Options(frame_ancestors="https://mine.bitrix24.ru")
    with TestClient(create_app(published[0], narrow)) as c:
        assert c.get("/").headers["content-security-policy"].endswith(
            "frame-ancestors https://mine.bitrix24.ru")
    with TestClient(create_app(published[0], Options(csp=False))) as c:
        assert "content-security-policy" not in c.get("/").headers


def test_the_health_endpoint_names_the_build(client: TestClient,
                                            published: tuple[Path, Manifest]) -> None:
    health = client.get("/healthz")
    assert health.json() == {"status": "ok", "build": published[1].snapshot_key}
    assert health.headers["cache-control"] == "no-store"


def test_there_is_no_favicon_but_no_error_either(client: TestClient) -> None:
    assert client.get("/favicon.ico").status_code == 204


# --------------------------------------------------------------------------- the files


def test_published_files_are_immutable_and_negotiate_their_encoding(
    client: TestClient, published: tuple[Path, Manifest]
) -> None:
    dist, manifest = published
    wasm = url(manifest, f"{PYODIDE}/pyodide.asm.wasm")
    response = client.get(wasm, headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    assert response.headers["content-type"] == "application/wasm"
    assert response.headers["cache-control"] == "max-age=315360000, public, immutable"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == (dist / "public" / manifest.path(
        f"{PYODIDE}/pyodide.asm.wasm")).read_bytes()
    assert client.get(wasm, headers={"Accept-Encoding": "gzip"}).headers[
        "content-encoding"] == "gzip"
    plain = client.get(wasm, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert_security_headers(response)


@pytest.mark.parametrize(
    ("logical", "content_type"),
    [("main.py", "text/x-python"), ("pyscript.toml", "application/toml"),
     ("static/app.css", "text/css"),
     ("static/startup-guard.js", "text/javascript"),
     (f"{PYODIDE}/pyodide.mjs", "text/javascript"),
     ("app-bundle.zip", "application/zip"),
     (f"runtime/open-sans-{VERSIONS.open_sans}/open-sans-latin-400-normal.woff2", "font/woff2")],
)
def test_each_kind_of_file_has_its_type(
    client: TestClient, published: tuple[Path, Manifest], logical: str, content_type: str
) -> None:
    response = client.get(url(published[1], logical))
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type


def test_etag_conditional_get_range_and_head(client: TestClient,
                                             published: tuple[Path, Manifest]) -> None:
    bundle = url(published[1], "app-bundle.zip")
    whole = client.get(bundle, headers={"Accept-Encoding": "identity"})
    etag = whole.headers["etag"]
    assert client.get(bundle, headers={"If-None-Match": etag,
                                       "Accept-Encoding": "identity"}).status_code == 304
    part = client.get(bundle, headers={"Range": "bytes=0-99", "Accept-Encoding": "identity"})
    assert part.status_code == 206 and part.content == whole.content[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(whole.content)}"
    head = client.head(bundle, headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(whole.content))


@pytest.mark.parametrize(
    "path",
    ["/manifest.json", "/pages/index.html", "/public/index.html", "/dev/simulator/simulator.js",
     "/main.py", "/pyscript.toml", "/app-bundle.zip", f"/{PYODIDE}/python_stdlib.zip",
     f"/{PYODIDE}/callcard-boot.mjs", f"/{PYODIDE}/package.json", f"/{PYODIDE}/pyodide.js",
     "/cardserver/asgi.py", "/callcard/app.py", "/.git/config", "/node_modules/.package-lock.json",
     "/runtime/", "/static/", "/%2e%2e/pyproject.toml", "/runtime/../pyproject.toml",
     "/static/..%2f..%2fpyproject.toml", "/simulator/", "/simulator/card/",
     "/simulator/bx24-fake.js"],
)
def test_nothing_but_the_published_files_and_the_pages_is_reachable(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404, path
    assert_security_headers(response)


def test_every_200_is_a_published_file_or_a_page(client: TestClient,
                                                 published: tuple[Path, Manifest]) -> None:
    dist, manifest = published
    allowed = {hashlib.sha256((dist / "public" / p).read_bytes()).hexdigest()
               for p in manifest.files.values()}
    allowed |= {hashlib.sha256(p.read_bytes()).hexdigest()
                for p in (dist / "pages").rglob("*") if p.is_file()}
    for entry in sorted(ROOT.iterdir()):
        for candidate in (f"/{entry.name}", f"/{entry.name}/"):
            response = client.get(candidate, headers={"Accept-Encoding": "identity"})
            if response.status_code == 200:
                assert hashlib.sha256(response.content).hexdigest() in allowed, candidate


# --------------------------------------------------------------------------- the simulator


def test_the_example_app_is_served_only_in_development(client: TestClient,
                                                       dev_client: TestClient) -> None:
    assert client.get("/examples/deal-contacts/").status_code == 404
    for method in ("GET", "POST"):  # a portal opens a placement with a form POST
        page = dev_client.request(method, "/examples/deal-contacts/")
        assert page.status_code == 200, method
        assert "content-security-policy" in page.headers
        assert 'config="./pyscript.' in page.text


def test_the_simulator_exists_only_in_development(dev_client: TestClient) -> None:
    page = dev_client.get("/simulator/")
    page_csp = page.headers["content-security-policy"]
    assert page.status_code == 200 and "frame-src 'self'" in page_csp
    assert "form-action 'self'" in page_csp  # it opens the card with a POST, as the portal
    assert dev_client.get("/simulator/bx24-fake.js").status_code == 200
    card = dev_client.get("/simulator/card/")
    assert card.status_code == 200
    assert '<script defer src="./simulator/bx24-fake.js"></script>' in card.text
    assert "//api.bitrix24.com/api/v1/" not in card.text
    assert card.text.count('<base href="../../">') == 1
    csp = card.headers["content-security-policy"]
    assert "base-uri 'self'" in csp and csp.endswith("frame-ancestors 'self'")


def test_the_runtime_is_also_below_the_simulator_card(
    dev_client: TestClient, published: tuple[Path, Manifest]
) -> None:
    boot = published[1].path(f"{PYODIDE}/callcard-boot.mjs")
    below = dev_client.get(f"/simulator/card/{boot}")
    assert below.status_code == 200 and below.content == dev_client.get(f"/{boot}").content


# --------------------------------------------------------------------------- nothing is written


def test_serving_writes_nothing(published: tuple[Path, Manifest]) -> None:
    dist, manifest = published

    def state() -> dict[str, tuple[int, int]]:
        return {str(p): (p.stat().st_size, p.stat().st_mtime_ns)
                for p in sorted(dist.rglob("*"))}

    cache = ROOT / ".cache"
    before, cache_before = state(), sorted(os.listdir(cache)) if cache.exists() else []
    with TestClient(create_app(dist, Options(dev=True))) as c:
        for path in ["/", "/install.html", "/simulator/card/", "/healthz",
                     *(f"/{p}" for p in manifest.files.values())]:
            for encoding in ("br", "gzip", "identity"):
                c.get(path, headers={"Accept-Encoding": encoding})
        c.post("/", data=TOKENS)
    assert state() == before
    assert (sorted(os.listdir(cache)) if cache.exists() else []) == cache_before


def test_no_file_of_the_repository_is_reachable_at_its_own_path(client: TestClient) -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert len(tracked) > 100
    for name in tracked:
        if name in ("index.html", "install.html"):
            continue  # the pages themselves (rendered for the build) are the two exceptions
        assert client.get(f"/{name}").status_code == 404, name


# --------------------------------------------------------------------------- the first paint

CALL = {"PLACEMENT": "CALL_CARD", "LANG": "ru", "DOMAIN": "example.bitrix24.ru", "PROTOCOL": "1",
        "PLACEMENT_OPTIONS": json.dumps({
            "CALL_ID": "c1", "PHONE_NUMBER": "+79001234567", "LINE_NUMBER": "74951234567",
            "LINE_NAME": "Sales", "CRM_ENTITY_TYPE": "CONTACT", "CRM_ENTITY_ID": "17",
            "CALL_DIRECTION": "incoming", "CALL_STATE": "connecting", "CALL_LIST_MODE": "false"})}


def test_the_portal_s_post_gets_the_call_already_on_the_page(client: TestClient) -> None:
    page = client.post("/", data={**CALL, **TOKENS})
    assert page.status_code == 200
    assert '<html lang="ru" data-app-state="loading" data-prerendered>' in page.text
    assert 'data-testid="caller-number"' in page.text and "+7 900 123-45-67" in page.text
    assert "<title>Карточка звонка</title>" in page.text
    body = page.text.split("<body>", 1)[1]
    assert 'data-testid="app-status"' not in body  # the card is the content now
    assert page.headers["cache-control"] == "no-store" and "etag" not in page.headers
    assert "content-security-policy" in page.headers
    for token in TOKENS.values():
        assert token not in page.text
    # The same fields in a GET's query (for tests) give the same page.
    assert client.get("/", params=CALL).text == page.text


@pytest.mark.parametrize(
    "change",
    [{"PLACEMENT": "DEFAULT"}, {"PLACEMENT_OPTIONS": "{not json"},
     {"PLACEMENT_OPTIONS": "[" * 10_000}, {"PLACEMENT_OPTIONS": "x" * 20_000},
     {"PLACEMENT_OPTIONS": "[]"}, {"PLACEMENT_OPTIONS": '"<script>alert(1)</script>"'}],
)
def test_anything_but_a_call_s_options_gets_the_page_as_built(
    client: TestClient, change: dict[str, str]
) -> None:
    plain = client.get("/").content
    page = client.post("/", data={**CALL, **change})
    assert page.status_code == 200 and page.content == plain


def test_a_body_that_is_not_a_form_gets_the_page_as_built(client: TestClient) -> None:
    plain = client.get("/").content
    assert client.post("/", files={"PLACEMENT": (None, "CALL_CARD")}).content == plain
    assert client.post("/", content=json.dumps(CALL),
                       headers={"Content-Type": "application/json"}).content == plain


def test_the_install_page_is_never_rendered_with_a_call(client: TestClient) -> None:
    assert client.post("/install.html", data=CALL).content == client.get("/install.html").content


def test_the_simulator_opens_its_card_with_a_post_too(dev_client: TestClient) -> None:
    card = dev_client.post("/simulator/card/", data=CALL)
    assert card.status_code == 200 and "data-prerendered" in card.text
    assert '<script defer src="./simulator/bx24-fake.js"></script>' in card.text
