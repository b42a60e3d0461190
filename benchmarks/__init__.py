"""Benchmarks for bria: `python -m benchmarks` (see benchmarks/__main__.py)."""
