# The browser's global scope as Pyodide exposes it (`import js`): any name, any JS value.
# Only what a type checker needs; the real module exists only inside Pyodide.
from typing import Any

def __getattr__(name: str) -> Any: ...
