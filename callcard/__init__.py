"""The call card app: pure machines (``card_machine.py`` for the call and its client, ``notes.py``
for the notes), their pure shell (``app.py``, run against the ports of ``ports.py``), a DOM view,
and the page's wiring.

The browser shells are ``view.py``, ``page.py``, ``notes_shell.py`` and ``install_page.py``; every
other module is pure Python that imports and is tested under CPython. None of them deals in
``pyodide`` itself: proxies and their lifetimes are the bridge's (``bx24_bridge.dom``).
tests/unit/test_import_boundary.py keeps it so.
"""
