"""Graded labs (labs/) with nbgrader, graded safely.

autograde.py   the grading settings, `make labs` (student versions), local grading
kernel.py      the kernel nbgrader grades in: sandboxed, restarted when stuck, swept after
sandbox.py     the kernel's launcher: the account course-grader, limits, a private folder
"""
