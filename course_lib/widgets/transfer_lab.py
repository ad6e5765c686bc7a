"""Transfer-learning lab (notebook 10): choose a source encoder, a strategy, a share of labels and how
many blocks to copy; press train; each finished run becomes a point on the accuracy-vs-labels chart.

    state  -> TransferState(source, strategy, fraction, k) and the list of finished runs
    render -> render_runs(runs, n_train) -> PNG bytes of the chart (drawn once per finished run)
    work   -> probes.transfer_accuracy (through train.fit), in a background thread so the kernel stays free;
              run_now() does the same synchronously (tests, scripts)
"""

from __future__ import annotations

import html
import threading
from dataclasses import asdict, dataclass

from .. import probes
from .base import CourseWidget, KernelPlayer, encode_png

FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class TransferState:
    source: str = "ssl_simclr"
    strategy: str = "fine-tuned"
    fraction: float = 0.1
    k: int = 3


def render_runs(runs: list[dict], n_train: int) -> bytes:
    """Accuracy against the number of labels (run["labels"]), one colour per strategy; the newest run ringed."""
    from matplotlib.figure import Figure  # no pyplot: the kernel's plotting backend is left alone

    fig = Figure(figsize=(6, 3.4), dpi=90)
    ax = fig.add_subplot()
    colours = dict(zip(probes.STRATEGIES, ("#1f77b4", "#ff7f0e", "#2ca02c")))
    for strategy in probes.STRATEGIES:
        mine = [r for r in runs if r["strategy"] == strategy]
        if mine:
            ax.scatter(
                [r["labels"] for r in mine],
                [r["accuracy"] for r in mine],
                color=colours[strategy],
                label=strategy,
                s=30,
            )
    if runs:
        last = runs[-1]
        ax.scatter(
            [last["labels"]],
            [last["accuracy"]],
            s=160,
            facecolors="none",
            edgecolors="black",
            linewidths=1.5,
            label="latest run",
        )
        ax.legend(fontsize=8, loc="lower right")
    ax.set(
        xscale="log",
        xlim=(5, n_train * 1.5),
        ylim=(0, 1),
        xlabel="labelled training images (log scale)",
        ylabel="test accuracy",
        title=f"{len(runs)} run(s)" if runs else "press train to add a run",
    )
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return encode_png(fig)


class TransferLab(CourseWidget):
    """encoders: {"ssl_simclr": ConvEncoder, ...}; train, test: (x, y) of the new task."""

    css_class = "course-transfer-lab"

    def __init__(self, encoders: dict, train: tuple, test: tuple, steps: int = 200):
        import ipywidgets as w

        if not encoders:
            raise ValueError(
                "encoders must name at least one pre-trained ConvEncoder, e.g. {'ssl_simclr': enc}"
            )
        self.encoders, self.train_data, self.test_data, self.steps = (
            dict(encoders),
            train,
            test,
            steps,
        )
        self.n_train = len(train[1])
        self.state = TransferState(source=next(iter(self.encoders)))
        self.runs: list[dict] = []
        self._lock = threading.RLock()
        self._pending: TransferState | None = None  # the configuration the player trains next
        self.player = KernelPlayer(self._train_pending, on_end=self._run_ended, name="transfer-lab")
        self.source = w.Dropdown(
            options=list(self.encoders), value=self.state.source, description="source"
        )
        self.strategy = w.ToggleButtons(
            options=list(probes.STRATEGIES), value=self.state.strategy, description="strategy"
        )
        self.fraction = w.SelectionSlider(
            options=[(f"{f:.0%}", f) for f in FRACTIONS],
            value=self.state.fraction,
            description="labels",
        )
        self.k = w.IntSlider(value=self.state.k, min=1, max=3, description="blocks")
        self.train_button = w.Button(description="train", icon="play", button_style="success")
        self.status = w.HTML("choose, then press train (a run takes a few seconds)")
        self.image = w.Image(
            format="png", layout=w.Layout(max_width="560px")
        )  # the chart's size: no blurry stretching
        self._chart = (
            None,
            b"",
        )  # (the runs it shows, PNG): drawn once per finished run, not per control change
        self.bind(self.source, "source", str)
        self.bind(self.strategy, "strategy", str)
        self.bind(self.fraction, "fraction")
        self.bind(self.k, "k", int)
        self.train_button.on_click(lambda _: self.start())
        self.train_button.add_class("course-train")
        self.finish(
            w.VBox(
                [
                    w.HBox([self.source, self.k]),
                    self.strategy,
                    w.HBox([self.fraction, self.train_button]),
                    self.status,
                    self.image,
                ]
            )
        )

    def draw(self, state: TransferState) -> bytes:
        """The chart of the finished runs (it does not depend on the controls until a run finishes)."""
        with self._lock:
            runs = tuple(tuple(sorted(r.items())) for r in self.runs)
            if self._chart[0] != runs:
                self._chart = (runs, render_runs(self.runs, self.n_train))
            return self._chart[1]

    def after_redraw(self) -> None:
        self.k.disabled = self.state.strategy == "scratch"  # nothing is copied from scratch

    def run_now(self, state: TransferState | None = None) -> dict:
        """Train one configuration here and now; returns the run (also added to the chart)."""
        state = state or self.state
        total = self.steps

        def progress(info):
            if info["step"] % 20 == 0:
                self.status.value = (
                    f"training {state.strategy} ... step {info['step']} of about {total}"
                )

        acc = probes.transfer_accuracy(
            self.encoders[state.source],
            state.strategy,
            self.train_data,
            self.test_data,
            state.fraction,
            state.k,
            self.steps,
            callbacks=[progress],
        )
        run = self.record(state, acc)
        copied = (
            "nothing copied"
            if state.strategy == "scratch"
            else f"{state.k} block(s) of {state.source}"
        )
        where = html.escape(f"{state.strategy}, {state.fraction:.0%} of the labels, {copied}")
        self.status.value = f"{where}: test accuracy <b>{acc:.3f}</b>"
        return run

    def record(self, state: TransferState, accuracy: float) -> dict:
        """Add a finished run (e.g. one measured earlier in the notebook) to the chart."""
        labels = len(probes.label_subset(self.train_data[1], state.fraction))
        run = {**asdict(state), "labels": labels, "accuracy": float(accuracy)}
        with self._lock:
            self.runs.append(run)
        self.redraw()
        return run

    def start(self) -> None:
        """Train the current configuration in the background (one run at a time)."""
        if self.player.playing:
            self.status.value = "a run is still training - wait for it to finish"
            return
        self.train_button.disabled = True
        self._pending = self.state
        self.player.start()

    def _train_pending(self) -> bool:
        self.run_now(self._pending)
        return False  # one run per press

    def _run_ended(self, error: str | None) -> None:
        if error:  # shown in the widget, not lost in a thread
            self.status.value = f"the run failed: {html.escape(error)}"
        self.train_button.disabled = False

    def wait(self, timeout: float | None = None) -> None:
        self.player.wait(timeout)
