"""A standard library archive with one more module: what a changed list of compiled modules
does to the archive (other bytes), for the tests of the build and of the interpreter snapshot."""

from __future__ import annotations

import io
import zipfile


def with_extra_module(archive: bytes, name: str, source: str) -> bytes:
    """``archive`` (a zip) with ``name`` added, at a fixed date: the same call, the same bytes."""
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as old, zipfile.ZipFile(rebuilt, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item))
        new.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), source)
    return rebuilt.getvalue()
