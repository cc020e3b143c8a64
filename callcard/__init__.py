"""The call card app: a pure model (present, i18n), a DOM view, and the controller that joins them.

Only ``view.py`` and ``app.py`` touch the browser; the rest imports under CPython.
"""
