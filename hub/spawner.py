"""The class hub's spawner: JupyterHub's LocalProcessSpawner plus the student's Unix account and
cgroup limits from course_hub.py."""

from __future__ import annotations

import os
from pathlib import Path

from course_hub import (
    ensure_student_account,
    parse_size,
    prepare_instructor,
    setup_student_cgroups,
)
from jupyterhub.spawner import LocalProcessSpawner
from jupyterhub.utils import random_port
from traitlets import Integer, Unicode


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner that creates the student's account and runs the server in the
    student's own cgroups (where the machine allows) with the course's limits."""

    max_pids = Integer(512, config=True, help="most processes (and threads) one student may run")
    home_root = Unicode("/home", config=True, help="where student homes are created")
    instructor = Unicode("", config=True, help="the hub user who grades (gets the formgrader)")
    labs_source = Unicode("", config=True, help="the labs' source versions (the checkout's labs/)")

    async def start(self):
        ensure_student_account(self.user.name, self.home_root)
        if self.user.name == self.instructor and self.labs_source:
            env_dir = Path(self.cmd[0]).parent.parent
            course = prepare_instructor(self.user.name, self.labs_source, env_dir)
            self.log.info("instructor %s: graded labs in %s", self.user.name, course)
        mem = parse_size(self.mem_limit) if self.mem_limit else 0
        cpu = float(self.cpu_limit or 0)
        self._cgroup_procs: list[Path] = []
        if mem and cpu:
            self._cgroup_procs, enforced = setup_student_cgroups(
                self.user.name, mem, cpu, self.max_pids
            )
            if enforced:
                self.log.info("limits for %s enforced by cgroups: %s", self.user.name, enforced)
            else:
                self.log.warning(
                    "cgroups are not writable here: the limits for %s (%s, %s cores) are only "
                    "advertised (MEM_LIMIT, CPU_LIMIT), not enforced",
                    self.user.name,
                    self.mem_limit,
                    self.cpu_limit,
                )
        if self.port == 0:
            self.port = random_port()
        return await super().start()

    def make_preexec_fn(self, name):
        drop_privileges = super().make_preexec_fn(name)
        procs = list(getattr(self, "_cgroup_procs", []))

        def preexec():
            # still root here, in the child: join the student's cgroups, then become the student
            for p in procs:
                try:
                    with open(p, "w") as f:
                        f.write(str(os.getpid()))
                except OSError:
                    pass
            drop_privileges()

        return preexec
