"""The server: an ASGI app, Starlette for the pages and ServeStatic for the publish folder.

- ServeStatic serves ``dist/public`` and nothing else: the folder is the allow-list. Every file
  in it is content-addressed or under its package version, so it is sent ``immutable``, with
  ETag / 304, Range, HEAD and the Brotli or gzip copy the client accepts.
- Starlette answers the handler and install pages for GET, HEAD and POST (Bitrix24 opens both
  with a form POST: a 405 would break the card). The body is read up to a cap and within a
  time, then dropped: nothing of it (tokens above all) is ever echoed, logged or stored. Pages
  are revalidated (``no-cache`` with a content ETag) and carry the Content-Security-Policy.
- Every response, errors included, carries nosniff and the referrer policy.
- ``/healthz`` says the build is loaded (for load balancers); the simulator and its card, and the
  example apps on the bridge (``/examples/<name>/``), exist only with ``dev=True``.

Nothing is built or written while serving: ``create_app`` reads the folder `make dist` wrote.
Run it with uvicorn (``python -m cardserver``, or in production
``uvicorn --factory cardserver.asgi:create_app``, which reads CARDSERVER_DIST).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, cast

import anyio
from servestatic import ServeStaticASGI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .dist import EXAMPLES, MANIFEST, PAGES, SIMULATOR_CARD, SIMULATOR_PAGE, Manifest, example_page
from .first_paint import PageTemplate, form_fields
from .security import (
    COMMON_HEADERS,
    DEFAULT_FRAME_ANCESTORS,
    content_security_policy,
    inline_script_sources,
    validate_frame_ancestors,
)

DEFAULT_DIST: Final = Path("dist")
#: The portal's form is a few KB (tokens, options); anything far larger is not the portal.
DEFAULT_MAX_BODY: Final = 64 * 1024
#: A POST body must arrive within this: a client that trickles bytes is not kept.
BODY_TIMEOUT: Final = 10.0
PAGE_METHODS: Final = ["GET", "HEAD", "POST"]

@dataclass(frozen=True)
class Options:
    """How the app answers: ``csp=False`` only for debugging; ``dev`` adds the simulator."""

    frame_ancestors: str = DEFAULT_FRAME_ANCESTORS
    csp: bool = True
    max_body: int = DEFAULT_MAX_BODY
    body_timeout: float = BODY_TIMEOUT
    dev: bool = False


@dataclass(frozen=True)
class _Page:
    body: bytes
    etag: str
    csp: str | None
    #: Where the call's first view goes, for the pages that show a call (None: the others).
    template: PageTemplate | None = None


#: A page's CSP, given the hash sources of its inline scripts.
_Policy = Callable[[list[str]], str]


def _policy(options: Options, *, frames_self: bool = False,
            simulator_card: bool = False) -> _Policy | None:
    """How this server writes a kind of page's CSP (None: it sends none)."""
    if not options.csp:
        return None
    return lambda scripts: content_security_policy(
        options.frame_ancestors, frames_self=frames_self, simulator_card=simulator_card,
        inline_scripts=scripts)


def _page(file: Path, policy: _Policy | None, *, first_paint: bool = False) -> _Page:
    """The built page ``file``; its policy allows the inline scripts the build wrote into it
    (hashed from the file, never from what a request renders into it)."""
    body = file.read_bytes()
    template = PageTemplate(body) if first_paint else None
    csp = policy(inline_script_sources(body)) if policy is not None else None
    return _Page(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', csp, template)


class BodyTooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The request body, up to ``limit`` bytes, within ``timeout`` seconds: it is read for the
    call's options, then dropped (never logged, echoed or kept)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    chunks: list[bytes] = []
    seen = 0
    with anyio.fail_after(timeout):
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise BodyTooLarge
            chunks.append(chunk)
    return b"".join(chunks)


def _page_endpoint(page: _Page, options: Options) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        fields: dict[str, str] = {}
        if request.method == "POST":
            try:
                body = await _read_body(request, options.max_body, options.body_timeout)
            except BodyTooLarge:
                return PlainTextResponse("Request body too large", status_code=413,
                                         headers={"Connection": "close"})
            except TimeoutError:
                return PlainTextResponse("Request body too slow", status_code=408,
                                         headers={"Connection": "close"})
            fields = form_fields(body, request.headers.get("content-type"))
        elif request.method == "GET":
            fields = {name: value for name, value in request.query_params.items()}
        headers = {"Cache-Control": "no-cache", "ETag": page.etag}
        if page.csp is not None:
            headers["Content-Security-Policy"] = page.csp
        rendered = page.template.for_request(fields) if page.template and fields else None
        if rendered is not None:
            # The call's own page: for this request only, never stored on the way.
            headers = {**headers, "Cache-Control": "no-store"}
            del headers["ETag"]
            return Response(rendered, media_type="text/html", headers=headers)
        if request.method != "POST" and request.headers.get("if-none-match") == page.etag:
            return Response(status_code=304, headers=headers)
        body = b"" if request.method == "HEAD" else page.body
        response = Response(body, media_type="text/html", headers=headers)
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(page.body))
        return response

    return endpoint


def _no_favicon(_request: Request) -> Response:
    return Response(status_code=204)  # no icon of our own: the portal shows its own


def _security_headers(app: ASGIApp) -> ASGIApp:
    """Adds COMMON_HEADERS to every response, whoever made it (ServeStatic, Starlette, errors)."""
    extra = [(name.lower().encode("latin-1"), value.encode("latin-1"))
             for name, value in COMMON_HEADERS]

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                known = {name for name, _ in message.get("headers", [])}
                message = {**message, "headers": [
                    *message.get("headers", []), *(h for h in extra if h[0] not in known)]}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


def options_from_environment() -> Options:
    """Options for ``uvicorn --factory`` (several workers import the app by name): from
    CARDSERVER_FRAME_ANCESTORS, CARDSERVER_NO_CSP=1, CARDSERVER_MAX_BODY, CARDSERVER_DEV=1."""
    env = os.environ
    return Options(
        frame_ancestors=validate_frame_ancestors(
            env.get("CARDSERVER_FRAME_ANCESTORS", DEFAULT_FRAME_ANCESTORS)),
        csp=env.get("CARDSERVER_NO_CSP") != "1",
        max_body=int(env.get("CARDSERVER_MAX_BODY", DEFAULT_MAX_BODY)),
        dev=env.get("CARDSERVER_DEV") == "1",
    )


def create_app(dist: Path | str | None = None, options: Options | None = None,
               extra_routes: Sequence[BaseRoute] = ()) -> ASGIApp:
    """The app over the publish folder ``dist`` (default: $CARDSERVER_DIST, else ./dist).

    ``extra_routes`` come first (the test rig's harness page)."""
    folder = Path(dist if dist is not None else os.environ.get("CARDSERVER_DIST", DEFAULT_DIST))
    options = options or options_from_environment()
    manifest = Manifest.load(folder)
    page_policy = _policy(options)
    routes: list[BaseRoute] = list(extra_routes)
    for name, file in PAGES.items():
        page = _page(folder / file, page_policy, first_paint=name == "index.html")
        endpoint = _page_endpoint(page, options)
        paths = ("/", "/index.html") if name == "index.html" else (f"/{name}",)
        routes.extend(Route(path, endpoint, methods=PAGE_METHODS) for path in paths)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "build": manifest.snapshot_key},
                            headers={"Cache-Control": "no-store"})

    routes.append(Route("/healthz", health, methods=["GET", "HEAD"]))
    routes.append(Route("/favicon.ico", _no_favicon, methods=["GET", "HEAD"]))
    if options.dev:
        routes.extend(_simulator_routes(folder, options))
        # The example apps on the bridge (examples/): opened like any placement, GET or POST.
        routes.extend(
            Route(f"/examples/{name}/", _page_endpoint(_page(folder / example_page(name),
                                                             page_policy), options),
                  methods=PAGE_METHODS)
            for name in EXAMPLES
        )
    pages = Starlette(routes=routes)
    static = ServeStaticASGI(
        pages,
        root=folder / "public",
        immutable_file_test=lambda _path, url: not url.startswith("/simulator/"),
        mimetypes={".toml": "application/toml", ".py": "text/x-python"},
        max_age=0,
    )
    if options.dev:
        # The simulator's own files (not content-addressed: revalidated), and the runtime below
        # its card page: PyScript resolves pyscript.toml's `interpreter` against the page's
        # location, not its <base>.
        static.add_files(folder / "dev" / "simulator", prefix="/simulator/")
        static.add_files(folder / "public" / "runtime", prefix="/simulator/card/runtime/")
    # ServeStatic types its scope with asgiref's TypedDicts; it is a plain ASGI app all the same.
    return _security_headers(cast(ASGIApp, static))


def _simulator_routes(folder: Path, options: Options) -> list[BaseRoute]:
    """The simulator page (it frames the card) and the card as it frames it (the fake host)."""
    simulator = _page(folder / SIMULATOR_PAGE, _policy(options, frames_self=True))
    card = _page(folder / SIMULATOR_CARD, _policy(options, simulator_card=True), first_paint=True)
    return [
        Route("/simulator/", _page_endpoint(simulator, options), methods=["GET", "HEAD"]),
        # The simulator opens its card with a form POST, as the portal does.
        Route("/simulator/card/", _page_endpoint(card, options), methods=PAGE_METHODS),
    ]


__all__ = ["DEFAULT_DIST", "DEFAULT_MAX_BODY", "MANIFEST", "Options", "create_app"]
