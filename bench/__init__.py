"""Performance benchmark of the call card: time to ready, payload and event latency.

Run it with `make bench` (or `.venv/bin/python -m bench`); see bench/__main__.py for the modes
and bench/results.md for the last results. Nothing here is imported by the app or the tests.
"""
