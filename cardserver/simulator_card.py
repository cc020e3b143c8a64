"""The simulator's copy of the app page: index.html with the fake host in place of the library.

The simulator (simulator/index.html) frames the app at ``/simulator/card/``. That page is the
built index.html with two changes, so the shipped page carries no test hook at all:

- the Bitrix24 library tag is replaced by the one fake (``simulator/bx24-fake.js``);
- ``<base href="../../">`` opens <head>, so the app's relative URLs (./static/..., ./runtime/...,
  ./main.py) resolve exactly as they do at ``/``;
- PyScript resolves its ``config`` attribute against ``location.href`` rather than the document's
  base URL, and [files] against the config's URL, so a relative ``config`` climbs the same two
  levels as the base. (Its fetch of the file goes through the base, which at the server's root
  ends in the same place.) PyScript also resolves pyscript.toml's ``interpreter`` against
  ``location.href``; the development server serves the runtime under /simulator/card/runtime/ too.

If index.html no longer has the library tag, the rewrite cannot be trusted: it raises, and
`make dist` stops and says why.
"""

from __future__ import annotations

import re

# : Exactly the tag index.html loads the real library with (docs/host-contract.md#loading).
LIBRARY_TAG = b'<script defer src="//api.bitrix24.com/api/v1/"></script>'
#: The fake, addressed from the base (the app's root), like every other URL of the page.
FAKE_TAG = b'<script defer src="./simulator/bx24-fake.js"></script>'
#: From /simulator/card/ two levels up is the app's root.
BASE_TAG = b'<base href="../../">'
ROOT_CLIMB = b"../../"

_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
# config="./x" (or config="x") on a <script type="py">: a path relative to the page.
_PY_CONFIG = re.compile(
    rb'(<script\b[^>]*\btype="py"[^>]*\bconfig=")(?:\./)?(?![a-z][a-z0-9+.-]*:|/)([^"]*")',
    re.IGNORECASE,
)


class SimulatorCardError(ValueError):
    """index.html cannot be turned into the simulator's card page."""


def simulator_card_page(index_html: bytes) -> bytes:
    """index.html as the simulator frames it; raises SimulatorCardError if it cannot be done."""
    if LIBRARY_TAG not in index_html:
        raise SimulatorCardError(
            "index.html has no " + LIBRARY_TAG.decode() + " tag, so the simulator cannot put "
            "its fake library in its place; update cardserver/simulator_card.py to match the page"
        )
    head = _HEAD.search(index_html)
    if head is None:
        raise SimulatorCardError("index.html has no <head> to put the simulator's <base> into")
    page = index_html[: head.end()] + b"\n  " + BASE_TAG + index_html[head.end() :]
    page = page.replace(LIBRARY_TAG, FAKE_TAG)
    return _PY_CONFIG.sub(lambda m: m.group(1) + ROOT_CLIMB + m.group(2), page)
