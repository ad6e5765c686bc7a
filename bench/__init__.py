"""Benchmarks of the course: `python -m bench` (or `make bench`) prints tables and writes bench/results.md."""

# The course's CPU thread policy before anything here imports torch (course_lib/threads.py).
import course_lib  # noqa: F401
