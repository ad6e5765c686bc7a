"""The course installs and runs wherever students open it: the wheel, conda/Binder, `make lab` as root."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

import course_lib
from bench.browser import free_port
from course_lib import __main__ as cli
from course_lib import checkpoints
from course_lib.checkpoints import CheckpointError

ROOT = Path(__file__).resolve().parent.parent


def _pins(text):
    return dict(re.findall(r"^\s*-?\s*\"?([A-Za-z0-9_.-]+)==([^\",\s]+)", text, re.M))


def test_environment_yml_pins_the_same_packages_and_versions_as_pyproject():
    pyproject = _pins((ROOT / "pyproject.toml").read_text())
    env = _pins((ROOT / "environment.yml").read_text())
    assert pyproject["torch"] == "2.13.0"
    # these two run beside the hub only (hub/setup.sh), never in a student's image
    for hub_side in ("jupyterhub-nativeauthenticator", "jupyterhub-idle-culler"):
        assert hub_side in pyproject and hub_side not in env
        del pyproject[hub_side]
    assert env == pyproject, (
        f"only in environment.yml: {sorted(env.items() - pyproject.items())}; "
        f"only in pyproject.toml: {sorted(pyproject.items() - env.items())}"
    )


def test_binder_postbuild_installs_the_package_and_the_course_kernel():
    post = (ROOT / "postBuild").read_text()
    assert re.search(r"^pip install\b.*\s\.$", post, re.M), (
        "postBuild must pip install the checkout"
    )
    assert re.search(r"^python -m course_lib kernel\b", post, re.M)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_torchvision_is_not_required():
    deps = (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]")[0]
    assert "torchvision" not in deps


# ---- python -m course_lib notebooks DIR ------------------------------------------------------------


def test_notebooks_command_copies_every_notebook_and_never_overwrites(tmp_path, capsys):
    dest = tmp_path / "my course"
    dest.mkdir()
    edited = dest / "03_autoencoders.ipynb"
    mine = json.loads((ROOT / "notebooks" / "03_autoencoders.ipynb").read_text())
    mine["cells"][0]["source"] = ["my own edits"]
    edited.write_text(json.dumps(mine))
    assert cli.main(["notebooks", str(dest)]) == 0
    out = capsys.readouterr().out
    shipped = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    # the notebooks and the slideshow's style (RISE reads rise.css next to them)
    assert sorted(p.name for p in dest.iterdir()) == sorted(shipped + ["rise.css"])
    assert "and rise.css" in out
    assert json.loads(edited.read_text())["cells"][0]["source"] == ["my own edits"], (
        "a student's edited copy was overwritten"
    )
    assert (dest / "00_getting_started.ipynb").read_bytes() == (
        ROOT / "notebooks" / "00_getting_started.ipynb"
    ).read_bytes()
    assert f"copied {len(shipped) - 1} notebook(s)" in out
    assert "kept 1 already there (not overwritten): 03_autoencoders.ipynb" in out
    # a second run copies nothing and keeps everything
    assert cli.main(["notebooks", str(dest)]) == 0
    assert f"kept {len(shipped)} already there" in capsys.readouterr().out


def test_a_damaged_notebook_is_kept_aside_and_copied_afresh(tmp_path, capsys):
    dest = tmp_path / "course"
    dest.mkdir()
    whole = (ROOT / "notebooks" / "05_gan.ipynb").read_bytes()
    (dest / "05_gan.ipynb").write_bytes(whole[: len(whole) // 3])  # cut short, e.g. by a full disk
    assert cli.main(["notebooks", str(dest)]) == 0
    assert "05_gan.ipynb there was damaged (it did not parse): kept as 05_gan.damaged-1.ipynb" in (
        capsys.readouterr().out
    )
    assert (dest / "05_gan.ipynb").read_bytes() == whole
    assert (dest / "05_gan.damaged-1.ipynb").read_bytes() == whole[: len(whole) // 3]


def test_a_full_disk_leaves_no_half_notebook(tmp_path, capsys, monkeypatch):
    import errno

    dest = tmp_path / "course"
    calls = {"n": 0}
    real = cli.shutil.copyfileobj

    def fills_up(inp, out, *args):
        calls["n"] += 1
        if calls["n"] == 4:  # the fourth file: half written, then no space left
            out.write(inp.read(1000))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(inp, out, *args)

    monkeypatch.setattr(cli.shutil, "copyfileobj", fills_up)
    assert cli.main(["notebooks", str(dest)]) == 1
    assert "the disk is full" in capsys.readouterr().err
    names = sorted(p.name for p in dest.iterdir())
    assert len(names) == 3 and not any(n.endswith(".part") for n in names)
    assert all(cli._readable_notebook(dest / n) for n in names), "every notebook there is whole"
    monkeypatch.undo()
    assert cli.main(["notebooks", str(dest)]) == 0  # space again: the rest is copied
    assert len(list(dest.glob("[0-9][0-9]_*.ipynb"))) == len(
        list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    )


def test_notebooks_command_into_a_file_is_a_clear_error(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("x")
    assert cli.main(["notebooks", str(target)]) == 1
    err = capsys.readouterr().err
    assert "expected a folder" in err and str(target) in err


# ---- COURSE_DATA_DIR ---------------------------------------------------------------------------------


def test_course_data_dir_that_does_not_exist_names_the_folder(tmp_path):
    missing = tmp_path / "nowhere"
    env = dict(os.environ, COURSE_DATA_DIR=str(missing))
    code = "import course_lib.checkpoints as c; c.load_state('digits_mlp')"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert f"{missing} (set by COURSE_DATA_DIR" in proc.stderr and "does not exist" in proc.stderr


def test_course_data_dir_lacking_a_file_names_the_folder_and_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "DATA_DIR", tmp_path)
    monkeypatch.setattr(checkpoints, "DATA_SOURCE", "COURSE_DATA_DIR")
    with pytest.raises(
        CheckpointError, match=r"MANIFEST\.json is missing from the folder .*COURSE_DATA_DIR"
    ):
        checkpoints.verify("digits_mlp")
    (tmp_path / "MANIFEST.json").write_text((ROOT / "data" / "MANIFEST.json").read_text())
    with pytest.raises(
        CheckpointError,
        match=rf"checkpoints/digits_mlp\.pt is missing from the folder {re.escape(str(tmp_path))}",
    ):
        checkpoints.verify("digits_mlp")


def test_a_checkout_uses_its_data_folder():
    assert course_lib.DATA_SOURCE in ("the repository checkout", "COURSE_DATA_DIR")
    if course_lib.DATA_SOURCE == "the repository checkout":
        assert course_lib.DATA_DIR == ROOT / "data"


# ---- the wheel, installed outside the source tree ----------------------------------------------------

INSTALLED_CHECK = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import course_lib as cl
    from course_lib import checkpoints
    from course_lib.models import MLPClassifier, Autoencoder, transfer
    from course_lib.models.vae import VAE
    from course_lib.models.gan import DCGenerator
    from course_lib.models.diffusion import SmallUNet
    assert Path(cl.__file__).is_relative_to(sys.argv[1]), cl.__file__
    builders = {"digits_mlp": MLPClassifier, "ae_digits": Autoencoder, "vae_digits": VAE,
                "dcgan": DCGenerator, "cgan": DCGenerator, "diffusion": SmallUNet,
                **transfer.PRETEXT_NETS}
    loaded = []
    for name in checkpoints.manifest()["checkpoints"]:
        if name in builders:
            checkpoints.load_checkpoint(name, builders[name])
        else:
            checkpoints.load_state(name)
        loaded.append(name)
    print(json.dumps({"data_dir": str(cl.DATA_DIR), "source": cl.DATA_SOURCE, "loaded": loaded}))
""")


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 300), **kw)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_every_package_of_the_library_is_in_the_wheel_list():
    """pyproject.toml names the packages explicitly: a new subpackage must be added there, or the wheel
    (and the class hub's environment) would lack it."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "course_lib").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_the_wheel_installed_outside_the_tree_runs_the_course(tmp_path):
    dist, site, away = tmp_path / "dist", tmp_path / "site", tmp_path / "student"
    away.mkdir()
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(dist),
            str(ROOT),
        ],
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("course_lib-*.whl")
    size_mb = wheel.stat().st_size / 2**20
    assert size_mb < 20, f"the wheel is {size_mb:.1f} MB"
    shipped = json.loads((ROOT / "data" / "MANIFEST.json").read_text())["checkpoints"]
    names = set(zipfile.ZipFile(wheel).namelist())
    for entry in shipped.values():
        assert f"course_lib/_data/{entry['file']}" in names
    assert "course_lib/_notebooks/00_getting_started.ipynb" in names
    # the extension `python -m course_lib kernel` installs so widgets work in the RISE slideshow
    assert {
        "course_lib/labextension/package.json",
        "course_lib/labextension/static/remoteEntry.js",
    } <= names

    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(site),
            str(wheel),
        ]
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_DATA_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    report = json.loads(
        _run([sys.executable, "-c", INSTALLED_CHECK, str(site)], cwd=away, env=env)
        .strip()
        .splitlines()[-1]
    )
    assert report["source"] == "the installed package"
    assert Path(report["data_dir"]) == site / "course_lib" / "_data"
    assert sorted(report["loaded"]) == sorted(shipped)

    out = _run(
        [sys.executable, "-m", "course_lib", "notebooks", "lecture-notes"], cwd=away, env=env
    )
    assert "copied 11 notebook(s)" in out
    notebook = away / "lecture-notes" / "00_getting_started.ipynb"
    run = textwrap.dedent(f"""
        import nbformat
        from nbclient import NotebookClient
        nb = nbformat.read({str(notebook)!r}, as_version=4)
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={{"metadata": {{"path": {str(notebook.parent)!r}}}}}).execute()
        nbformat.write(nb, {str(notebook)!r})
    """)
    _run([sys.executable, "-c", run], cwd=away, env=env, timeout=600)
    executed = json.loads(notebook.read_text())
    text = "".join(
        "".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", [])
    )
    assert not [
        o
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert f"{site / 'course_lib' / '_data'} (the installed package)" in text, (
        "the kernel did not use the wheel"
    )


# ---- make lab, as the user CI runs as ------------------------------------------------------------------


def _get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, ""


@contextlib.contextmanager
def _make_serving(tmp_path, target: str, *extra: str):
    """Start `make TARGET` on a free loopback port (no browser) the way a user does; yield
    (base URL, token, log path); stop it, and everything it started, at the end."""
    port, token = free_port(), "course-test-token"
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = tmp_path / f"{target}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                "make",
                "-s",
                target,
                *extra,
                f"PORT={port}",
                "LAB_ARGS=--no-browser --ip 127.0.0.1 --LabApp.news_url= "
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                _get(f"http://127.0.0.1:{port}/api/status?token={token}")
                break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token, log
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def test_make_lab_serves_the_course(tmp_path):
    with _make_serving(tmp_path, "lab") as (url, token, log):
        status, page = _get(f"{url}/lab?token={token}")
        text = log.read_text()
        assert status == 200 and "JupyterLab" in page, f"/lab did not answer:\n{text[-3000:]}"
        assert _get(f"{url}/api/contents")[0] == 403, "token authentication must stay on"
        assert "00_getting_started.ipynb" in _get(f"{url}/api/contents?token={token}")[1]
        if os.getuid() == 0:
            assert "--allow-root" in text and "token authentication stays on" in text


def test_make_present_opens_the_lectures_slideshow(tmp_path):
    with _make_serving(tmp_path, "present", "NB=05") as (url, token, log):
        # the start page is the RISE slideshow of 05, served by jupyterlab-rise
        with urllib.request.urlopen(f"{url}/?token={token}", timeout=30) as r:
            assert r.status == 200 and r.url.split("?")[0].endswith("/rise/05_gan.ipynb")
            assert "jupyter-config-data" in r.read().decode()
        assert "Ctrl+Shift+Enter" in log.read_text()
    r = subprocess.run(
        ["make", "-s", "present"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert r.returncode != 0 and "e.g. make present NB=05" in r.stdout + r.stderr
