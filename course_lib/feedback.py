"""Live feedback paid for by the work it reports, never by the wall clock.

A progress bar or a live plot that redraws every 0.1 s of *wall* time costs more the slower the
machine is: on a server shared by 16 students one fit cell took 326 s with such feedback and 13.6 s
without (bench/results.md). Here a redraw is due only when the CPU time of the work since the last
redraw pays for it: the redraw's own CPU time stays under `share` of it. A crowded machine gives the
work less CPU per second, so the feedback redraws less often per second - never more.

    budget = Budget(share=0.05)
    ...one training step...
    if budget.due():
        with budget.drawing():
            redraw()

`live()` says whether a frontend is watching: in a notebook UI's kernel (JupyterLab, the class hub,
RISE, VS Code) or a terminal it is; in a kernel that nbclient / nbval, `make slides` or the hub's load
test run, nothing sees the intermediate pictures, so only the final picture is drawn.
COURSE_LIVE=1 / COURSE_LIVE=0 overrides the guess.

Progress is the course's progress bar on that budget; it ends with one printed line, which reads the
same in every viewer (an exported notebook has no live bar).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Callable

__all__ = ["Budget", "Progress", "live"]


def live(environ=None) -> bool:
    """Whether anyone sees live feedback in this process (see the module docstring)."""
    env = os.environ if environ is None else environ
    choice = env.get("COURSE_LIVE", "").strip().lower()
    if choice in ("1", "on", "true", "yes"):
        return True
    if choice in ("0", "off", "false", "no"):
        return False
    if "ipykernel" in sys.modules:  # a Jupyter kernel: is it a notebook UI's session?
        return bool(env.get("JPY_SESSION_NAME")) or any(k.startswith("VSCODE_") for k in env)
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Budget:
    """When may feedback redraw? When the work done since the last redraw pays for it. Only CPU time
    counts, so the number of redraws follows the work alone: the same on an idle and a crowded
    machine, which spends more wall time on each.

    share: the most of the work's CPU time that drawing may take (0.05 = 5%).
    min_work: at least this many CPU seconds of work between redraws (on an idle machine about
        that many seconds: the eye needs no more than a few pictures a second).
    cpu: the clock (the process's CPU time, all its threads); tests pass a fake one.
    """

    def __init__(
        self,
        share: float = 0.05,
        min_work: float = 0.2,
        cpu: Callable[[], float] = time.process_time,
    ):
        if not 0 < share < 1:
            raise ValueError(f"share must be between 0 and 1 (e.g. 0.05 for 5%), got {share!r}")
        self.share, self.min_work, self.cpu = share, min_work, cpu
        self.cost = 0.0  # CPU seconds of the last redraw (the first redraw is free: it measures it)
        self.redraws = 0
        self.drawing_cpu = 0.0  # total CPU time spent drawing
        self._mark = cpu()

    def due(self) -> bool:
        """Whether the work since the last redraw pays for one more: at least `min_work`, and
        enough that the redraw's cost stays under `share` of it."""
        work = self.cpu() - self._mark
        return work >= self.min_work and work * self.share >= self.cost

    @contextlib.contextmanager
    def drawing(self):
        """Around a redraw: measures what it cost, for the next due()."""
        start = self.cpu()
        try:
            yield
        finally:
            end = self.cpu()
            self.cost = end - start
            self.drawing_cpu += self.cost
            self.redraws += 1
            self._mark = end


class Progress:
    """A progress bar for `total` steps that moves when its Budget allows; close() prints one line.

    Where nobody watches (live() is false) there is no bar at all, only the final line.
    """

    def __init__(self, total: int, desc: str = "training", share: float = 0.05, show=None):
        self.total, self.desc, self.done = total, desc, 0
        self.budget = Budget(share, min_work=0.1)
        self.postfix: dict = {}
        self.start = time.monotonic()
        self.bar = None
        if live() if show is None else show:
            from tqdm.auto import tqdm

            # mininterval=0: tqdm redraws when told to; the budget decides when that is
            self.bar = tqdm(total=total, desc=desc, leave=False, mininterval=0, miniters=1)

    def step(self, n: int = 1, **postfix) -> None:
        self.done += n
        if postfix:
            self.postfix = postfix
        if self.bar is not None and self.budget.due():
            with self.budget.drawing():
                self.bar.set_postfix(self.postfix, refresh=False)
                self.bar.update(self.done - self.bar.n)

    def close(self, summary: str | None = None) -> None:
        """Remove the bar and print one line: `summary`, or the steps done and the time taken."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        seconds = time.monotonic() - self.start
        print(summary or f"{self.desc}: {self.done} of {self.total} steps in {seconds:.1f} s")
