"""The call card app: a pure model (present, i18n, notes, ...), a DOM view, and the controller that
joins them.

The browser shells are ``view.py``, ``app.py``, ``notes_shell.py`` and ``install_page.py``; every
other module is pure Python that imports and is tested under CPython. None of them deals in
``pyodide`` itself: proxies and their lifetimes are the bridge's (``bx24_bridge.dom``).
tests/unit/test_import_boundary.py keeps it so.
"""
