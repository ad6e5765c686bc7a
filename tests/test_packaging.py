"""The three ways to install the course agree: pyproject.toml, environment.yml (Binder) and the Makefile."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines):
    return dict(re.findall(r"^\s*-?\s*\"?([A-Za-z0-9_.-]+)==([^\",\s]+)", lines, re.M))


def test_environment_yml_pins_the_same_versions_as_pyproject():
    pyproject = _pins((ROOT / "pyproject.toml").read_text())
    env = _pins((ROOT / "environment.yml").read_text())
    assert pyproject["torch"] == "2.13.0"
    for name, version in env.items():
        assert pyproject.get(name) == version, f"{name}: environment.yml has {version}, pyproject {pyproject.get(name)}"
    for name in ("torch", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "scikit-learn", "tqdm"):
        assert name in env, f"environment.yml misses {name}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_torchvision_is_not_required():
    deps = (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]")[0]
    assert "torchvision" not in deps
