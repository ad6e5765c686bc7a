import os

# Tests are deterministic and CPU-only, whatever the machine has.
os.environ.setdefault("COURSE_DEVICE", "cpu")

# The course's CPU thread policy, before any test imports torch: passive OpenMP waiting and
# threads.usable_threads() of the CPUs this process may use. Kernels the tests start inherit it.
import matplotlib  # noqa: E402

import course_lib  # noqa: E402,F401

matplotlib.use("Agg")  # in this process only: kernels started by the tests keep the inline backend

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def lab():
    """JupyterLab on 127.0.0.1 with headless Chromium (bench.browser.JupyterLabSession), one per test
    module; stopped when the module ends, also after a failure."""
    from bench.browser import JupyterLabSession

    from support import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with JupyterLabSession() as session:
        yield session
