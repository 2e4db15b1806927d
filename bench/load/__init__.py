"""Load scenarios with locust (issue 16): `python -m bench.load.run`, see docs/benchmarks.md."""
