"""`python -m bench` (`make bench`): how close a backfill comes to the rate-limit floor, load-path throughput, memory.

See docs/benchmarks.md for the figures and bench/plan.py for the floor definitions. Other modules here
(`bench.load_formats`, `bench.budget_utilisation`) are narrower, standalone measurements.
"""
