"""make present: a lecture as a live slideshow, from a working copy, with the keyboard only.

The unit tests check how the working copy follows the course (course_lib/present.py). The browser
tests start the server exactly as `make present NB=07` does and follow README "Presenting" key by
key in Chromium at 1280x720: no click before the run-everything key, the corner line while it
runs, the speaker notes window on a slide with notes (it follows the deck for a minute, and the
deck never jumps), the stepper's busy sign, Q to leave - and afterwards the course's notebooks are
byte for byte what they were, although JupyterLab autosaved the executed copy (every 5 s here)."""

import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_lib import present

ROOT = Path(__file__).resolve().parent.parent


def _notebook(path: Path, sources: list[str], outputs: bool = False) -> Path:
    cells = [
        {
            "cell_type": "code",
            "metadata": {},
            "source": s,
            "execution_count": 1 if outputs else None,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "out\n"}]
            if outputs
            else [],
        }
        for s in sources
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def test_the_working_copy_follows_the_course_but_keeps_the_instructors_edits(tmp_path):
    course, copy = tmp_path / "course", tmp_path / "presenting"
    course.mkdir()
    a = _notebook(course / "01_a.ipynb", ["x = 1"])
    b = _notebook(course / "02_b.ipynb", ["y = 2"])
    style = course / "rise.css"
    style.write_text(".reveal {}")
    sources = [a, b, style]

    first = present.prepare(copy, sources)
    assert first.copied == ["01_a.ipynb", "02_b.ipynb", "rise.css"]
    assert (copy / "01_a.ipynb").read_bytes() == a.read_bytes()

    # presenting runs and autosaves the copy: outputs are not edits, and nothing is copied again
    _notebook(copy / "01_a.ipynb", ["x = 1"], outputs=True)
    again = present.prepare(copy, sources)
    assert again.kept == ["01_a.ipynb", "02_b.ipynb", "rise.css"] and not again.lines()
    assert json.loads((copy / "01_a.ipynb").read_text())["cells"][0]["outputs"], "the run is kept"

    # the course changes (git pull): an unedited copy (outputs only) takes the new version; an
    # edited one is kept, and the command says so
    _notebook(a, ["x = 10"])
    _notebook(b, ["y = 20"])
    _notebook(copy / "02_b.ipynb", ["y = 2", "print('my own example')"])
    style.write_text(".reveal { color: red }")
    pulled = present.prepare(copy, sources)
    assert pulled.updated == ["01_a.ipynb", "rise.css"]
    assert pulled.edited == ["02_b.ipynb"]
    assert json.loads((copy / "01_a.ipynb").read_text())["cells"][0]["source"] == "x = 10"
    assert "my own example" in (copy / "02_b.ipynb").read_text()
    assert any("kept your edited" in line and "02_b.ipynb" in line for line in pulled.lines())
    # ... and stays kept on the next run (the edit is remembered against the old course version)
    assert present.prepare(copy, sources).edited == ["02_b.ipynb"]

    # a copy cut short (a full disk) is moved aside and copied afresh
    (copy / "01_a.ipynb").write_text('{"cells": [')
    repaired = present.prepare(copy, sources)
    assert repaired.repaired == [("01_a.ipynb", "01_a.damaged-1.ipynb")]
    assert (copy / "01_a.damaged-1.ipynb").read_text() == '{"cells": ['
    assert json.loads((copy / "01_a.ipynb").read_text())["cells"][0]["source"] == "x = 10"


def test_the_lecture_is_named_by_its_number_and_a_wrong_one_lists_the_lectures(tmp_path):
    sources = [tmp_path / "00_intro.ipynb", tmp_path / "07_diffusion.ipynb", tmp_path / "rise.css"]
    assert present.find_lecture("07", sources).name == "07_diffusion.ipynb"
    assert present.find_lecture("7", sources).name == "07_diffusion.ipynb"
    with pytest.raises(ValueError, match=r"one of: 00 07"):
        present.find_lecture("99", sources)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="expected a folder"):
        present.prepare(tmp_path / "file", [])


def test_the_present_command_prepares_the_copy_and_refuses_an_unknown_lecture(tmp_path):
    run = [sys.executable, "-m", "course_lib", "present"]
    ok = subprocess.run(
        run + ["03", "--dir", str(tmp_path / "p"), "--prepare-only"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "03_autoencoders.ipynb as a slideshow" in ok.stdout and "Q leaves" in ok.stdout
    assert (tmp_path / "p" / "03_autoencoders.ipynb").exists() and (
        tmp_path / "p" / "rise.css"
    ).exists()
    bad = subprocess.run(
        run + ["42", "--dir", str(tmp_path / "p"), "--prepare-only"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "expected one lecture" in bad.stderr


# ---------------------------------------------------------------------------------------------- browser
def _tracked_notebooks() -> dict:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((ROOT / "notebooks").iterdir())
        if p.is_file()
    }


def _git_status() -> str | None:
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", "notebooks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return None
    return out.stdout if out.returncode == 0 else None


def _deck_number(page) -> str:
    return page.evaluate(
        "() => { const s = document.querySelector('.reveal .slide-number');"
        " return s ? s.textContent.replace(/\\s+/g, '') : ''; }"
    )


def _bar(page) -> tuple[str, str]:
    return tuple(
        page.evaluate(
            "() => { const b = document.querySelector('.course-presenter-bar');"
            " return b ? [b.getAttribute('data-state'), b.textContent] : ['', '']; }"
        )
    )


def _code_cells(path) -> int:
    """How many code cells the corner line counts: every one the notebook has."""
    return sum(c["cell_type"] == "code" for c in json.loads(path.read_text())["cells"])


def _wait(predicate, seconds: float, what: str, step: float = 0.2):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what}: not within {seconds} s")


@pytest.mark.browser
def test_presenting_07_with_the_keyboard_only_leaves_the_course_notebooks_untouched(tmp_path):
    from support import ARTIFACTS, require_chromium

    require_chromium()
    from bench.browser import JupyterLabSession

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tracked, status = _tracked_notebooks(), _git_status()
    settings = (
        tmp_path
        / "settings"
        / "@jupyterlab"
        / "docmanager-extension"
        / "plugin.jupyterlab-settings"
    )
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"autosave": True, "autosaveInterval": 5}))
    copy = tmp_path / "presenting"
    with JupyterLabSession(
        root=copy, present="07", env={"JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")}
    ) as lab:
        page = lab.browser.new_page(viewport={"width": 1280, "height": 720})
        page.set_default_timeout(60_000)
        outside = []
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                else None
            ),
        )
        page.goto(f"http://127.0.0.1:{lab.port}/?token={lab.token}")  # what make present opens
        page.wait_for_selector(".reveal .slides section.present", timeout=90_000)
        assert "/rise/07_diffusion.ipynb" in page.url
        lab._wait_kernel_idle(page, 90)
        state, text = _wait(lambda: _bar(page)[0] and _bar(page), 20, "the corner line")
        assert (
            state == "idle"
            and "Ctrl+Shift+Enter runs every cell" in text
            and "T notes" in text
            and "Q leave" in text
        )

        # 1. no click: two slides on, then the run-everything key; the deck stays where it is
        page.keyboard.press("Space")
        page.keyboard.press("Space")
        _wait(lambda: _deck_number(page).startswith("3/"), 10, "Space moves the deck")
        page.keyboard.press("Control+Shift+Enter")
        state, text = _wait(
            lambda: _bar(page)[0] == "busy" and _bar(page),
            10,
            "the corner line says the kernel is busy",
        )
        cells = _code_cells(ROOT / "notebooks" / "07_diffusion.ipynb")
        assert re.search(rf"running: \d+ of {cells} cells done", text), text
        page.screenshot(path=str(ARTIFACTS / "present_running.png"))
        _wait(lambda: _bar(page)[0] == "ready", 300, "every cell ran", step=1.0)
        assert f"ready: {cells} of {cells} cells run" in _bar(page)[1]
        assert _deck_number(page).startswith("3/"), "run-all kept the deck on its slide"
        assert not lab.error_outputs(page)

        # 5. the stepper's new sample says it is working while it works
        notes_slide = page.evaluate(
            "() => document.querySelectorAll('aside.notes')[1].closest('section').id"
        )
        from bench.slides import go_to_live_slide

        go_to_live_slide(page, notes_slide)
        page.locator(f"#{notes_slide} .lm-TabBar-tab", has_text="reverse").first.click()
        page.locator(f"#{notes_slide} button", has_text="new sample").first.click()
        _wait(
            lambda: page.locator(f"#{notes_slide} button", has_text="sampling...").count(),
            2,
            "the busy sign",
        )
        assert page.locator(f"#{notes_slide} button", has_text="sampling...").first.is_disabled()
        _wait(
            lambda: page.locator(f"#{notes_slide} button", has_text="new sample").count(),
            20,
            "the button back",
        )
        # the clicks put the keyboard on the widget: Esc gives it back to the slides
        page.keyboard.press("Escape")
        assert page.evaluate(
            "() => { const a = document.activeElement; return !!a.closest('.jp-Notebook.jp-mod-commandMode')"
            " && !a.closest('.jp-OutputArea'); }"
        ), "Esc gives the keyboard back to the slides"

        # 2. speaker notes on a slide with notes: they show that slide's notes and follow the deck
        number = _deck_number(page)
        with page.context.expect_page(timeout=10_000) as opened:
            page.keyboard.press("t")
        notes = opened.value
        notes.wait_for_selector("#notes")
        expected = page.evaluate(
            "(id) => document.getElementById(id).querySelector('aside.notes .jp-RenderedHTMLCommon')"
            ".textContent.replace(/\\s+/g, ' ').trim()",
            notes_slide,
        )
        assert expected[:60] in notes.inner_text("#notes"), (
            "the notes window shows this slide's notes"
        )
        assert notes.title().startswith("Speaker notes: 07_diffusion")
        assert notes.inner_text("#title") == "Watch the reverse process (continued)", (
            "a demo slide's title"
        )
        notes.screenshot(path=str(ARTIFACTS / "present_notes.png"))
        assert len(page.context.pages) == 2, (
            "one notes window (not also jupyterlab-rise's speaker view)"
        )

        # for a minute: move on from the notes window and from the deck in turn; between moves the
        # deck must stay put, and the notes window must show the deck's slide each time
        current = int(number.split("/")[0])
        moves = [
            (notes, "ArrowRight", +1),
            (page, "Space", +1),
            (notes, "PageDown", +1),
            (notes, "ArrowLeft", -1),
            (page, "Space", +1),
            (notes, "ArrowRight", +1),
        ]
        started = time.time()
        for window, key, step in moves:
            window.bring_to_front()
            window.keyboard.press(key)
            current += step
            _wait(
                lambda n=current: _deck_number(page).startswith(f"{n}/"),
                5,
                f"{key} moves the deck to {current}",
            )
            _wait(
                lambda n=current: notes.evaluate("() => document.body.dataset.slide") == str(n),
                5,
                "the notes follow",
            )
            until = time.time() + 10
            while time.time() < until:
                assert _deck_number(page).startswith(f"{current}/"), (
                    f"the deck jumped to {_deck_number(page)}"
                )
                time.sleep(0.5)
        assert time.time() - started >= 60

        # 4. JupyterLab autosaved the executed notebook - into the working copy
        def saved_outputs():
            cells = json.loads((copy / "07_diffusion.ipynb").read_text())["cells"]
            return sum(bool(c.get("outputs")) for c in cells)

        _wait(saved_outputs, 30, "an autosave of the executed copy", step=1.0)
        notes.close()

        # Q (on a freshly opened slideshow) leaves for the same notebook in JupyterLab
        leave = lab.browser.new_page(viewport={"width": 1280, "height": 720})
        leave.goto(f"http://127.0.0.1:{lab.port}/rise/00_getting_started.ipynb?token={lab.token}")
        leave.wait_for_selector(".reveal .slides section.present", timeout=90_000)
        _wait(lambda: _bar(leave)[0], 20, "the corner line")
        leave.keyboard.press("q")
        leave.wait_for_url(re.compile(r"/lab/tree/00_getting_started\.ipynb"), timeout=30_000)
        leave.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
        assert outside == [], (
            f"the slideshow asked the internet for {outside[:3]} (offline it must not)"
        )
    assert _tracked_notebooks() == tracked, "presenting wrote into the course's notebooks/"
    assert _git_status() == status
