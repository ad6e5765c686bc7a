import os

# Tests are deterministic and CPU-only, whatever the machine has.
os.environ.setdefault("COURSE_DEVICE", "cpu")
import matplotlib  # noqa: E402

matplotlib.use("Agg")  # in this process only: kernels started by the tests keep the inline backend
