# nbgrader's settings for everyone on the class hub: hub/setup.sh copies this file into the class
# environment ($HUB_ENV/etc/jupyter/nbgrader_config.py), where nbgrader reads it.
#
# - The course's grading settings (course_lib/grading/settings.py: the stubs, the cell time limit,
#   the grading kernel). Autograding runs each submission as the account course-grader with limits
#   (course_lib/grading/sandbox.py); the instructor may start it through sudo (hub/setup.sh).
#   The settings file is run by its path: importing course_lib would load torch into every
#   student's Jupyter server that reads this config (the Assignments tab).
# - The exchange, where the instructor releases labs and students submit them: in the hub's state
#   folder ($HUB_STATE/exchange), made by jupyterhub_config.py.
# - The instructor (HUB_ADMIN) keeps the course folder - labs' sources, the gradebook, submissions,
#   feedback - in ~/course-labs (mode 700), prepared by the spawner on their first start.
import getpass
import importlib.util
import os
import runpy
from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
_package = Path(importlib.util.find_spec("course_lib").origin).parent
runpy.run_path(str(_package / "grading" / "settings.py"))["configure"](c)
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", "/srv/course-hub/exchange")
if getpass.getuser() == os.environ.get("COURSE_INSTRUCTOR"):
    c.CourseDirectory.root = os.path.expanduser("~/course-labs")
