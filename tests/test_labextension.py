"""course-rise-widgets: the small JupyterLab extension that lets ipywidgets draw inside the RISE
slideshow (the live behaviour is checked in a real browser in tests/test_rise.py)."""

import json
import shutil
import subprocess

import pytest

from course_lib.__main__ import RISE_WIDGETS_EXTENSION, install_rise_widgets, main

NODE = shutil.which("node")

# Runs the extension's remoteEntry.js as the slideshow's loader does: the script defines a container,
# the loader calls init(shareScope); then a consumer asks the scope for @jupyterlab/console.
PROBE = r"""
const fs = require('fs');
globalThis._JUPYTERLAB = {};
(0, eval)(fs.readFileSync(process.argv[2], 'utf8'));
const c = _JUPYTERLAB['course-rise-widgets'];
(async () => {
  const bare = {'@lumino/coreutils': {'2.2.1': {get: () => Promise.resolve(() => ({}))}}};
  await c.init(bare);
  const versions = bare['@jupyterlab/console'];
  const factory = await versions[Object.keys(versions)[0]].get();
  const real = {get: () => Promise.resolve(() => ({real: true}))};
  const lab = {'@jupyterlab/console': {'4.6.2': real}};
  await c.init(lab);
  let missing = null;
  try { await c.get('./other'); } catch (e) { missing = e.message; }
  const plugins = (await c.get('./extension'))().default;
  console.log(JSON.stringify({
    token: factory().IConsoleTracker.name,
    labKept: Object.keys(lab['@jupyterlab/console']).length === 1 && lab['@jupyterlab/console']['4.6.2'] === real,
    others: Object.keys(bare).sort(),
    missing,
    plugins: plugins.map(p => [p.id, p.autoStart, typeof p.activate]),
  }));
})();
"""


@pytest.mark.skipif(
    NODE is None, reason="node is not installed (the class hub's setup needs it too)"
)
def test_the_container_adds_the_console_module_only_where_it_is_missing(tmp_path):
    from pathlib import Path

    import course_lib

    entry = Path(course_lib.__file__).parent / "labextension" / "static" / "remoteEntry.js"
    probe = tmp_path / "probe.js"
    probe.write_text(PROBE)
    out = subprocess.run(
        [NODE, str(probe), str(entry)], capture_output=True, text=True, timeout=30, check=True
    )
    result = json.loads(out.stdout)
    assert result["token"] == "@jupyterlab/console:IConsoleTracker"
    assert result["labKept"], "JupyterLab's own @jupyterlab/console must not be replaced"
    assert result["others"] == ["@jupyterlab/console", "@lumino/coreutils"]
    assert "does not exist" in result["missing"]
    # the presenter plugin (keyboard, speaker notes, kernel line, leave key): checked live in
    # tests/test_present.py; in JupyterLab itself it does nothing
    assert result["plugins"] == [["course-rise-widgets:presenter", True, "function"]]


def test_install_puts_a_valid_federated_extension_where_jupyterlab_finds_it(tmp_path):
    from jupyterlab_server.config import get_federated_extensions

    dest = install_rise_widgets(str(tmp_path))
    assert dest == tmp_path / "share" / "jupyter" / "labextensions" / RISE_WIDGETS_EXTENSION
    (dest / "stale.txt").write_text("old")
    install_rise_widgets(str(tmp_path))  # again: replaced, not merged
    assert not (dest / "stale.txt").exists()
    found = get_federated_extensions([str(tmp_path / "share" / "jupyter" / "labextensions")])
    ext = found[RISE_WIDGETS_EXTENSION]
    load = ext["jupyterlab"]["_build"]["load"]
    assert (dest / load).is_file()
    assert ext["jupyterlab"]["_build"]["extension"] == "./extension", (
        "the presenter plugin is registered"
    )


def test_the_kernel_command_installs_it(tmp_path, capsys):
    assert main(["kernel", "--prefix", str(tmp_path)]) == 0
    assert "widgets work inside the RISE slideshow" in capsys.readouterr().out
    ext = tmp_path / "share" / "jupyter" / "labextensions" / RISE_WIDGETS_EXTENSION
    assert json.loads((ext / "package.json").read_text())["name"] == RISE_WIDGETS_EXTENSION
