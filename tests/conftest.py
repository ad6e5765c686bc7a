import os

# Tests are deterministic and CPU-only, whatever the machine has.
os.environ.setdefault("COURSE_DEVICE", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")
