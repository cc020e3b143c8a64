"""Print the requirements from pyproject.toml (the server's, then the dev tools'), one per
argument, for ``pip install``.

pyproject.toml is the single list; the Makefile installs from it without installing the project
as a package (the card runs in the browser; the server runs from the checkout).
"""

import sys
import tomllib
from pathlib import Path

pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
project = pyproject["project"]
requirements = [*project.get("dependencies", []), *project["optional-dependencies"]["dev"]]
sys.stdout.write(" ".join(requirements) + "\n")
