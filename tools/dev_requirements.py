"""Print the dev requirements from pyproject.toml, one per argument, for ``pip install``.

pyproject.toml is the single list of test and lint tools; the Makefile installs from it without
installing the app itself (the app runs in the browser and has no Python package to build).
"""

import sys
import tomllib
from pathlib import Path

pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
sys.stdout.write(" ".join(pyproject["project"]["optional-dependencies"]["dev"]) + "\n")
