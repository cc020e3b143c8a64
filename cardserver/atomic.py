"""Files the build writes where another process may read them: all or nothing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def replacing(target: Path, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """A temp file beside `target` that takes its place (`os.replace`) when the block ends,
    or is removed if it raises: readers see the old file or the new one, never half of one.

    `mode` sets the permissions (mkstemp's are 0600) for a file another user must read.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as temp:
            yield temp
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
