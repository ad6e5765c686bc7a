"""The benchmark code runs (quick sizes), so it cannot silently rot. Speeds are not asserted here."""

import numpy as np

from bench.execution import _peak_rss_mib, notebooks
from bench.interactivity import WIDGETS, _time_changes, gan_table
from bench.throughput import throughput_table


def test_every_interactive_widget_is_benchmarked_and_changes_its_image():
    for name, make in WIDGETS.items():
        widget, changes = make()
        assert len(changes) >= 100, f"{name}: p95 needs >= 100 changes"
        before = widget.image.value
        times = _time_changes(changes[:5])
        assert len(times) == 5 and np.all(times >= 0)
        assert widget.image.value != before, f"{name}: the measured change did not change the image"


def test_gan_rate_and_throughput_tables_have_numbers():
    rates, table = gan_table(0.8)
    assert rates["steps_per_s"] > 0 and rates["refresh_per_s"] > 0 and "GANLab" in table
    rows, table = throughput_table(quick=True)
    assert all(r["fit"] > 0 and r["bare"] > 0 for r in rows) and "overhead" in table


def test_execution_helpers():
    import os

    assert any(p.name.startswith("00_") for p in notebooks())
    assert _peak_rss_mib(os.getpid()) > 10


def test_sharing_workers_run_under_each_thread_setting():
    from bench.sharing import MODES, run_workers

    assert set(MODES) == {"default", "passive", "one", "course"}
    results, wall = run_workers("one", 2, steps=2)
    assert (
        len(results) == 2
        and all(r["threads"] == 1 and r["seconds"] > 0 for r in results)
        and wall > 0
    )
    (course,), _ = run_workers("course", 1, steps=2)
    from course_lib import threads

    assert course["threads"] == threads.current().threads


def test_quality_text_and_ssl_rows_name_their_strongest_baseline():
    from bench.quality import ssl_rows, text_rows

    rows = text_rows(quick=True)
    assert [r["metric"] for r in rows][0] == "held-out perplexity"
    agreement = {r["metric"]: r for r in rows[1:]}
    assert len(agreement) == 3 and all("Witten-Bell" in r["baseline"] for r in rows)
    after_two = agreement["subject-verb agreement after 2 clauses"]
    assert after_two["value"] >= 0.9 and after_two["baseline_value"] <= 0.7 and after_two["met"]
    rows = ssl_rows(quick=True)
    assert len(rows) == 5 and len({r["baseline"] for r in rows}) == 1
    assert all(0 < r["value"] <= 1 and r["met"] == (r["value"] > r["baseline_value"]) for r in rows)
    assert rows[0]["baseline"].startswith("HOG"), "HOG features are the strongest baseline here"


def test_generator_rows_judge_fd_on_the_median_of_several_real_sets(monkeypatch):
    import bench.quality as quality
    from course_lib import data, metrics

    spec = data.GENERATIVE_DIGITS
    real, _ = data.make_digits28(
        200, seed=4242, difficulty=spec["difficulty"]
    )  # a perfect generator
    x_train, y_train = data.generative_digits("train", 2_000)
    blobs, _ = metrics.per_class_gaussian(x_train, y_train, 200, seed=3)
    fake = {"diffusion": real, "dcgan": blobs, "cgan": real, "vae": blobs}
    monkeypatch.setattr(quality, "generator_samples", lambda name, n, seed=0: fake[name][:n])
    rows = quality.generator_rows(200)
    fd_rows = {r["model"]: r for r in rows if r["metric"].startswith("FD")}
    assert len(fd_rows) == 4 and all(
        "median over 8 real sets" in r["metric"] for r in fd_rows.values()
    )
    perfect, trivial = fd_rows["diffusion, DDPM 200 steps"], fd_rows["DCGAN"]
    assert 0.6 < perfect["value"] < 1.6, "real digits sit at the real-vs-real floor"
    assert trivial["value"] > 3 * perfect["value"] and trivial["baseline_value"] > 3
    for r in fd_rows.values():
        goal = r["goal"]
        assert r["met"] == (float(goal[3:]) >= r["value"] if goal.startswith("<=") else None)
    assert fd_rows["DCGAN"]["met"] is False and fd_rows["diffusion, DDPM 200 steps"]["met"] is True


def test_feedback_bench_runs_kernels_at_once_and_counts_redraws():
    """Section 8's pieces on a small scale: the fit cell in two kernels at once, with live feedback
    drawn (redraws counted) and none; the GAN view's steps and refreshes while it plays."""
    from bench.feedback import fit_cells, gan_view

    drawn = fit_cells(2, live=True, epochs=30)  # about 0.3 CPU s: a redraw is due after 0.2
    none = fit_cells(1, live=False, epochs=2)
    assert len(drawn) == 2 and all(r["wall"] > 0 and r["cpu"] > 0 for r in drawn)
    assert all(r["redraws"] >= 1 for r in drawn) and none[0]["redraws"] == 0
    view = gan_view(1, 2.0)
    assert view["steps_per_s"] > 0 and view["refreshes_per_s"] > 0
