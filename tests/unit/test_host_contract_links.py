"""Comments and docstrings point at the host's behaviour in docs/host-contract.md, which a clone
has; every anchor they name is a section there, and nothing points outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "host-contract.md"
SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".html", ".toml", ".css")
LINK = re.compile(r"docs/host-contract\.md#([a-z-]+)((?:, #[a-z-]+)*)")


def anchors() -> set[str]:
    """GitHub's anchors for the contract's headings (lower case, spaces as hyphens)."""
    headings = re.findall(r"^## (.+)$", CONTRACT.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-") for heading in headings}


def sources() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return [ROOT / name for name in tracked if name.endswith(SOURCE_SUFFIXES)]


def test_every_anchor_the_code_names_is_a_section_of_the_contract() -> None:
    known, named = anchors(), set()
    for path in sources():
        for first, more in LINK.findall(path.read_text(encoding="utf-8")):
            named |= {first, *re.findall(r"#([a-z-]+)", more)}
    assert named, "no code links to the contract any more"
    assert named <= known, sorted(named - known)


def test_nothing_points_at_a_contract_outside_the_repository() -> None:
    stale = [str(path.relative_to(ROOT)) for path in sources()
             if re.search(r"§\s*\d|call-card\.md",
                          path.read_text(encoding="utf-8"))]
    assert not stale, stale
