"""The course website (tools/build_site.py, make site): pages from the executed lectures, read
without a kernel, offline; the flagship figures move from precomputed pictures.

The unit tests check how a lecture becomes a page. The browser test builds a small site (the four
lectures with moving figures, the home page and the API reference) and opens every page in Chromium
with the network blocked: no console error, no request leaving the site, every image loaded and
described, math rendered, no page wider than a phone, no critical or serious axe-core violation,
every internal link resolves, every moving figure changes picture when its control moves, search
finds the library's functions. bench/site.py times the same on the whole site.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import build_site  # noqa: E402
from static_widgets import WIDGET_STATE, WIDGET_VIEW  # noqa: E402

PNG = base64.b64encode(b"\x89PNG fake").decode()


def _notebook():
    nb = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell("# 99 · A lecture\nSee [the bench](../bench/results.md).")
    notes = nbformat.v4.new_markdown_cell("Speaker notes: press play.")
    notes.metadata["slideshow"] = {"slide_type": "notes"}
    section = nbformat.v4.new_markdown_cell("## Training")
    plot = nbformat.v4.new_code_cell(
        'fig.suptitle(f"loss after {n} steps")\nax.set_title("the curve")'
    )
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG})]
    moving = nbformat.v4.new_code_cell("control")
    moving.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={WIDGET_VIEW: {"model_id": "m1"}, "image/png": PNG, "text/plain": "VBox()"},
        )
    ]
    saved = nbformat.v4.new_code_cell("browser")
    saved.outputs = [
        nbformat.v4.new_output(
            "display_data", data={WIDGET_VIEW: {"model_id": "m2"}, "text/plain": "VBox()"}
        )
    ]
    nb.cells = [title, notes, section, plot, moving, saved]
    nb.metadata["widgets"] = {
        WIDGET_STATE: {
            "state": {
                "m2": {
                    "model_name": "VBoxModel",
                    "state": {"children": ["IPY_MODEL_m3", "IPY_MODEL_m4"]},
                },
                "m3": {
                    "model_name": "IntSliderModel",
                    "state": {"description": "index", "value": 3},
                },
                "m4": {
                    "model_name": "ImageModel",
                    "state": {"format": "png"},
                    "buffers": [{"path": ["value"], "data": PNG}],
                },
            }
        }
    }
    frames = {
        "title": "t",
        "controls": [{"label": "t", "values": ["0", "1"], "index": 0, "kind": "slider"}],
        "frames": [PNG, PNG],
        "captions": ["a", "b"],
        "map": None,
        "points": None,
    }
    nb.metadata["course_frames"] = {"m1": frames}
    return nb


def test_a_lecture_page_moves_its_flagship_widget_and_saves_the_others():
    page, moving = build_site.prepare(_notebook(), "99_a_lecture")
    assert moving == 1
    text = nbformat.writes(page)
    assert "Speaker notes" not in text, "the presenter's notes stay off the students' page"
    assert "widget-view" not in text and "course_frames" not in text and '"widgets"' not in text
    html = [
        o["data"]["text/html"]
        for c in page.cells
        for o in c.get("outputs", [])
        if "text/html" in o["data"]
    ]
    live, saved = html
    assert 'class="course-figure"' in live and '"captions":["a","b"]' in live
    assert "course-figure-saved" in live, "the saved picture stays for readers without JavaScript"
    assert "index: <b>3</b>" in saved and 'alt="' in saved
    links = page.cells[1].source
    assert 'href="../notebooks/99_a_lecture.ipynb" download' in links and "git-pull" in links
    assert "(`bench/results.md` in the course's repository)" in page.cells[0].source


def test_figures_are_described_by_their_titles():
    assert (
        build_site.alt_text('fig.suptitle(f"loss after {n} steps")', "x")
        == "Figure: loss after ... steps"
    )
    assert build_site.alt_text("plt.imshow(x)", "Training") == "Figure of the section 'Training'"
    page, _ = build_site.prepare(_notebook(), "99_a_lecture")
    plot = next(c for c in page.cells if c.cell_type == "code")
    assert plot.metadata["mystnb"]["image"]["alt"] == "Figure: loss after ... steps; the curve"


def test_the_hub_link_pulls_the_course_and_opens_the_lecture(monkeypatch):
    monkeypatch.setattr(build_site, "HUB_URL", "https://hub.example.edu/")
    url = urlparse(build_site.hub_link("05_gan"))
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "hub.example.edu",
        "/hub/user-redirect/git-pull",
    )
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query == {
        "repo": build_site.HUB_REPO,
        "branch": "main",
        "targetpath": "course",
        "urlpath": "lab/tree/course/notebooks/05_gan.ipynb",
    }
    monkeypatch.setattr(build_site, "BINDER_REPO", "")
    assert build_site.binder_link("05_gan") is None
    monkeypatch.setattr(build_site, "BINDER_REPO", "someone/course")
    assert build_site.binder_link("05_gan").endswith(
        "/gh/someone/course/HEAD?labpath=notebooks%2F05_gan.ipynb"
    )


def test_the_home_page_lists_every_lecture_with_the_readme_topic():
    text = build_site.home_page([("05_gan", "05 · GANs"), ("07_diffusion", "07 · Diffusion")])
    assert "| 05 | [05 · GANs](lectures/05_gan.ipynb) | the min-max game" in text
    assert "lectures/07_diffusion" in text.split("toctree")[1]


def test_a_lab_page_is_the_student_version_without_solutions_or_hidden_tests():
    (released,) = build_site.release_labs(["04"])
    text = json.dumps(build_site.lab_page(released).cells)
    assert "Task 4" in text and "Download the lab" in text
    for secret in (
        "BEGIN SOLUTION",
        "HIDDEN TESTS",
        "elbo_points",
        "A model answer",
        "optimizer.step()",
    ):
        assert secret not in text, secret
    assert "YOUR CODE HERE" in text


@pytest.mark.browser
def test_the_page_checks_catch_what_they_look_for(tmp_path):
    """The checks below can fail: a page with a picture without alt text, a request to the
    internet, a script error and a wide block is reported for each."""
    from support import require_chromium

    require_chromium()
    from bench.site import check_site

    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><title>bad</title></head><body>"
        f'<img src="data:image/png;base64,{PNG}"><img src="https://example.com/x.png" alt="x">'
        '<div style="width:900px">wide</div><a href="missing.html">gone</a>'
        "<script>undefinedFunction()</script></body></html>"
    )
    (report,), dead = check_site(tmp_path, ["index.html"])
    assert not report.ok
    assert report.outside == ["https://example.com/x.png"]
    assert report.no_alt and report.width_390 >= 900
    assert any("undefinedFunction" in e for e in report.console_errors)
    assert {"image-alt", "html-has-lang"} <= {v[0] for v in report.axe}
    assert dead == ["/missing.html (404)"]


@pytest.mark.browser
def test_the_site_reads_offline_in_chromium_and_its_figures_move(tmp_path):
    from support import require_chromium

    require_chromium()
    from bench.site import check_site, move_figures, serve

    report = build_site.build(
        ["04", "05", "06", "07"], out=tmp_path / "site", source=tmp_path / "src"
    )
    site = report["out"]
    assert report["warnings"] == [], report["warnings"][:5]
    pages = [
        p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts
    ]
    assert {"index.html", "api.html", "search.html"} <= set(pages)
    assert len([p for p in pages if p.startswith("lectures/")]) == 4
    assert len([p for p in pages if p.startswith("labs/")]) == 4, "the graded labs of 04-07"
    assert (site / "lab-files" / "05_gan_lab.ipynb").exists(), "the lab to download"
    assert (site / "notebooks" / "05_gan.ipynb").exists(), "the notebook to download"
    written = [p for p in pages if p.startswith("lectures/") or p in ("index.html", "api.html")]
    pages_before = {
        p: (site / p).stat().st_mtime_ns for p in written
    }  # (Sphinx always rewrites its indices)
    again = build_site.build(["04", "05", "06", "07"], out=site, source=tmp_path / "src")
    assert again["executed"] == 0, "a second build without changes executes nothing"
    assert {p: (site / p).stat().st_mtime_ns for p in written} == pages_before, (
        "nor rewrites a page"
    )

    reports, dead = check_site(site, pages)
    problems = {r.path: r for r in reports if not r.ok}
    assert problems == {}, {
        p: (
            r.console_errors[:2],
            r.outside[:2],
            r.broken_images[:2],
            r.no_alt[:2],
            r.raw_math,
            r.width_390,
            r.axe[:3],
        )
        for p, r in problems.items()
    }
    assert dead == []
    math = {r.path: r.math for r in reports}
    assert (
        math["lectures/04_variational_autoencoders.html"] > 5
        and math["lectures/07_diffusion.html"] > 5
    )

    figures = move_figures(site, [p for p in pages if p.startswith("lectures/")], moves=6)
    titles = " ".join(f["title"] for f in figures)
    for kind in ("latent explorer", "GAN training timeline", "class control", "forward: add noise"):
        assert kind in titles, f"no moving {kind!r} figure"
    for f in figures:
        assert all(f["changed"]), f"{f['title']}: a move did not change the picture"
        assert f["bytes"] <= 3_000_000, (
            f"{f['title']}: {f['bytes']} bytes of pictures (budget 3 MB)"
        )

    # search: Sphinx's index, in the page, offline
    from playwright.sync_api import sync_playwright

    from bench.browser import CHROMIUM, CHROMIUM_ARGS

    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/search.html?q=seed_everything")
            page.wait_for_selector("#search-results li a", timeout=20_000)
            hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
            assert any("api.html" in h for h in hits), hits
        finally:
            browser.close()
    json.dumps(figures)  # the bench's rows are plain data
