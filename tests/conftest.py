import os

# Tests are deterministic and CPU-only, whatever the machine has.
os.environ.setdefault("COURSE_DEVICE", "cpu")

# The course's CPU thread policy, before any test imports torch: passive OpenMP waiting and
# threads.usable_threads() of the CPUs this process may use. Kernels that nbval and the tests start inherit it.
import matplotlib  # noqa: E402

import course_lib  # noqa: E402,F401

matplotlib.use("Agg")  # in this process only: kernels started by the tests keep the inline backend
