"""The library's layers: imports point one way (notebooks -> widgets -> models / train / plot -> data).

Every `import` in course_lib, at the top of a module or inside a function, is read from the source
and checked against the table below; an import against the direction fails with the file and line.
"""

import ast
from pathlib import Path

import pytest

import course_lib

PACKAGE = Path(course_lib.__file__).resolve().parent

# What each part of the library may import from the rest of it ("core" is course_lib/__init__.py
# and threads.py: seeding, devices, eval_mode, the thread policy). A part may always import itself.
ALLOWED = {
    "core": set(),
    "data": {"core"},
    "checkpoints": {"core"},
    "features": {"core"},
    "models": {"core", "data"},
    "feedback": {"core"},  # live feedback paid for by the work it reports
    "plot": {"core", "feedback"},
    "source": set(),  # show_source: the lectures show the library's code
    "train": {"core", "data", "models", "plot", "feedback"},
    "probes": {"core", "data", "checkpoints", "models", "train"},
    # the labs' tests judge a generator with the independent judge (metrics), as the lectures do
    "check": {"core", "data", "models", "train", "probes", "metrics"},
    # graded labs with nbgrader: the settings, the sandboxed kernel, local grading
    "grading": {"core"},
    "pretrain": {"core", "data", "checkpoints", "models", "train", "probes"},
    # how generators are judged: the shipped judge (checkpoints), its features, handcrafted features
    "metrics": {"core", "data", "checkpoints", "models", "features"},
    "widgets": {
        "core",
        "data",
        "checkpoints",
        "models",
        "train",
        "plot",
        "probes",
        "metrics",
        "feedback",
    },
    # `python -m course_lib` sits where the notebooks sit: `warmup` loads what the first demo needs
    # presenting from a working copy: files only, no models
    "present": set(),
    "cli": {"core", "checkpoints", "models", "widgets", "present", "grading"},
}


def part_of(module: str) -> str:
    """course_lib.models.gan -> "models"; course_lib / course_lib.threads -> "core"."""
    parts = module.split(".")
    if parts[0] != "course_lib":
        raise ValueError(module)
    if len(parts) == 1 or parts[1] in ("threads", "_data", "_notebooks"):
        return "core"
    if parts[1] == "__main__":
        return "cli"
    return parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path):
    """(line, imported course_lib module) for every import of the library in a file."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "course_lib":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "course_lib":
                continue
            for alias in node.names:  # `from . import data` imports the submodule data
                sub = f"{target}.{alias.name}"
                yield (
                    node.lineno,
                    sub
                    if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists()
                    or (PACKAGE.parent / sub.replace(".", "/")).is_dir()
                    else target,
                )


def violations():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = part_of(module_name(path)) if path.name != "__main__.py" else "cli"
        for line, target in imports_of(path):
            other = part_of(target)
            if other != me and other not in ALLOWED[me]:
                found.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line}: {me} imports {target} ({other})"
                )
    return found


def test_every_part_of_the_library_is_in_the_table():
    parts = {part_of(module_name(p)) for p in PACKAGE.rglob("*.py") if p.name != "__main__.py"}
    assert parts <= set(ALLOWED), (
        f"add {sorted(parts - set(ALLOWED))} to ALLOWED with the parts it may import"
    )


def test_imports_point_one_way():
    assert violations() == []


def test_the_checker_catches_an_import_against_the_direction(tmp_path, monkeypatch):
    """The test above can fail: a model that imports a widget is reported."""
    fake = tmp_path / "course_lib"
    (fake / "models").mkdir(parents=True)
    (fake / "widgets").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "models" / "__init__.py").write_text("")
    (fake / "widgets" / "__init__.py").write_text("")
    (fake / "widgets" / "view.py").write_text("")
    (fake / "models" / "bad.py").write_text("def f():\n    from ..widgets import view\n")
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    assert violations() == [
        "course_lib/models/bad.py:2: models imports course_lib.widgets.view (widgets)"
    ]


@pytest.mark.parametrize("name", course_lib._SUBMODULES)
def test_lazy_submodules_import(name):
    assert getattr(course_lib, name).__name__ == f"course_lib.{name}"


def test_every_module_is_reachable_lazily_or_by_import():
    top = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()
    }
    top -= {"__init__", "__main__", "_data", "_notebooks"}
    assert top <= set(course_lib._SUBMODULES), (
        f"cl.<name> fails for {sorted(top - set(course_lib._SUBMODULES))}"
    )


# Inside a package, the pieces point one way too: the training pieces do not need fit(), a lecture's
# checkers share only the base skeleton, every widget builds on base.py and drawing never controls.
INNER = {
    "course_lib.train.guards": set(),
    "course_lib.train.batches": set(),
    "course_lib.train.loop": {"course_lib.train.guards", "course_lib.train.batches"},
    "course_lib.train.gan": {"course_lib.train.guards"},
    "course_lib.train.recipes": {"course_lib.train.loop"},
    "course_lib.check.base": set(),
    "course_lib.widgets.base": set(),
    "course_lib.widgets.gan_view": {"course_lib.widgets.base"},
    "course_lib.widgets.gan_lab": {"course_lib.widgets.base", "course_lib.widgets.gan_view"},
    "course_lib.models.rnn": set(),
    "course_lib.models.ngram": set(),
    "course_lib.models.sequence_tasks": set(),
}


def inner_violations(package_root=None):
    root = package_root or PACKAGE
    found = []
    for path in sorted(root.rglob("*.py")):
        me = module_name(path)
        if path.name == "__init__.py":
            continue
        package = me.rsplit(".", 1)[0]
        for line, target in imports_of(path):
            if not target.startswith(package + ".") or target == me:
                continue  # another part of the library: the table above checks it
            if me in INNER and target not in INNER[me]:
                found.append(f"{path.relative_to(root.parent)}:{line}: {me} imports {target}")
            if me.startswith("course_lib.check.lecture") and target != "course_lib.check.base":
                if not target.startswith("course_lib.check.lecture"):
                    found.append(f"{path.relative_to(root.parent)}:{line}: {me} imports {target}")
            if me.startswith("course_lib.widgets.") and target.split(".")[-1] in ("gan_lab",):
                if me != "course_lib.widgets.gan_lab":
                    found.append(f"{path.relative_to(root.parent)}:{line}: {me} imports {target}")
    return found


def test_pieces_inside_each_package_point_one_way():
    assert inner_violations() == []


def test_the_new_modules_are_in_the_layers():
    parts = {module_name(p): part_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert parts["course_lib.train.loop"] == "train" and parts["course_lib.check.base"] == "check"
    assert parts["course_lib.source"] == "source" and parts["course_lib.probes"] == "probes"
    assert parts["course_lib.models.sequence_tasks"] == "models"
    assert set(INNER) <= set(parts), (
        f"INNER names modules that do not exist: {set(INNER) - set(parts)}"
    )


def test_the_inner_check_catches_a_piece_that_needs_fit(tmp_path, monkeypatch):
    fake = tmp_path / "course_lib"
    (fake / "train").mkdir(parents=True)
    for name in ("__init__.py", "train/__init__.py", "train/loop.py"):
        (fake / name).write_text("")
    (fake / "train" / "guards.py").write_text("from .loop import fit\n")
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    assert inner_violations(fake) == [
        "course_lib/train/guards.py:1: course_lib.train.guards imports course_lib.train.loop"
    ]
