"""Every setting that decides a lab's score, in one place, for every grader: the class hub's
nbgrader (hub/nbgrader_config.py), `make labs`' course folder and `python -m course_lib grade`.

Only the standard library: the hub's nbgrader config runs this file by its path (runpy), so that a
student's Jupyter server reading nbgrader's config (the Assignments tab) does not import
course_lib, and with it torch, into its own process. The grading kernel is named by its import
path, resolved only when a submission is autograded.
"""

from __future__ import annotations

import os

COURSE_ID = "dl-course"
# A cell that takes longer is interrupted: a graded training task needs <= 60 s on one core.
CELL_TIMEOUT = 180
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
# nbgrader's autograde steps, with its Execute replaced by the course's sandboxed one
AUTOGRADE_PREPROCESSORS = [
    "course_lib.grading.kernel.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


def configure(c, course_dir=None, sandbox: bool = True) -> None:
    """Put the course's grading settings into an nbgrader/traitlets config `c`."""
    if course_dir is not None:
        c.CourseDirectory.root = str(course_dir)
    c.CourseDirectory.course_id = COURSE_ID
    c.ClearSolutions.code_stub = {"python": STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    c.Execute.timeout = int(os.environ.get("COURSE_GRADING_CELL_TIMEOUT", CELL_TIMEOUT))
    # a kernel restarted after ignoring an interrupt never sends the cut-off cell's last messages:
    # record the cell's timeout and go on, instead of failing the whole submission
    c.Execute.raise_on_iopub_timeout = False
    c.GradingKernelManager.sandbox = sandbox
    c.Autograde.autograde_preprocessors = list(AUTOGRADE_PREPROCESSORS)
