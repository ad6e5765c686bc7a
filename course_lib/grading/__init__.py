"""Graded labs (labs/) with nbgrader, graded safely.

settings.py    every setting that decides a score (standard library only: the hub's nbgrader
               config runs it by path, so no student's server imports torch for it)
autograde.py   `make labs` (student versions), local grading, a class's autograde
kernel.py      the kernel nbgrader grades in: sandboxed, restarted when stuck, swept after
sandbox.py     the kernel's launcher: the account course-grader, limits, a private folder
"""
