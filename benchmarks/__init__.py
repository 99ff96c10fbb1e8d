"""Benchmarks of iterable_sync, each side by side with what a naive hand-written sync does.

``python -m benchmarks`` (``make bench``) runs them all and prints one table; see
``benchmarks/__main__.py`` for the settings and ``planning.py``, ``sending.py`` and
``rerun.py`` for what each case measures and how.
"""
