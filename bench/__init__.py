"""`python -m bench` (`make bench`): how close a backfill comes to the rate-limit floor, load-path throughput, memory.

See docs/benchmarks.md for the figures and bench/plan.py for the floor definitions. `bench.load_formats`
is a narrower, standalone measurement (dlt's loader file formats on PostgreSQL).
"""
