"""Benchmarks of the course: `python -m bench` (or `make bench`) prints tables and writes bench/results.md."""
