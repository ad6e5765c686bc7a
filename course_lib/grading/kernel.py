"""The kernel nbgrader grades in: started through sandbox.py, stopped with everything it started.

`GradingKernelManager` replaces jupyter_client's kernel manager inside nbgrader's Execute step
(`SandboxedExecute`, named in the grading config of autograde.py):
- its kernel is sandbox.py's, as the account course-grader with limits (`sandbox=True`, the class
  hub and `make labs`' autograder), or as the current user with the same limits, folder and
  environment (`sandbox=False`: a student grading their own copy on their laptop);
- a timed-out cell is interrupted; when the kernel still does not answer 10 s later (the student's
  code ignores the interrupt), the kernel is restarted: the cells after it fail fast on the missing
  state instead of each waiting out its own timeout;
- after the kernel stops, every process of course-grader is ended and its scratch files deleted
  (sandbox.sweep), so a fork bomb or a background thread does not outlive the submission.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid

import zmq.asyncio
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool

from . import sandbox

STUCK_SECONDS = 10


class GradingKernelManager(AsyncKernelManager):
    sandbox = Bool(True, config=True, help="run the kernel as course-grader (else as this user)")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        action = "kernel" if self.sandbox else "local"
        self._kernel_spec = KernelSpec(
            argv=[sys.executable, sandbox.THIS, action, "-f", "{connection_file}"],
            display_name="course grader" + ("" if self.sandbox else " (local)"),
            language="python",
            interrupt_mode="signal",
        )

    async def interrupt_kernel(self) -> None:
        await super().interrupt_kernel()
        if not await self._answers(STUCK_SECONDS):
            self.log.warning("the kernel ignored the interrupt: restarting it")
            await self.restart_kernel(now=True)

    async def _answers(self, seconds: float) -> bool:
        # its own session and ZMQ context: a client from self.client() shares the grader's session,
        # whose id is its socket's identity, so the kernel would send the grader's replies here
        info = self.get_connection_info(session=True)  # a clone of the session: same key
        info["session"].session = uuid.uuid4().hex  # ... another id
        client = self.client_factory(**info, context=zmq.asyncio.Context())
        client.start_channels()
        try:
            msg_id = client.kernel_info()
            while True:
                reply = await client.get_shell_msg(timeout=seconds)
                if reply["parent_header"].get("msg_id") == msg_id:
                    return True
        except Exception:  # queue.Empty on timeout, or a dead kernel
            return False
        finally:
            client.stop_channels()
            client.context.destroy(linger=0)

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        pgid = None
        if self.provisioner is not None and getattr(self.provisioner, "pgid", None):
            pgid = self.provisioner.pgid
        await super().shutdown_kernel(now=now, restart=restart)
        if self.sandbox:
            sandbox.run_sweep()
        elif pgid:  # the student's own processes, on their own machine: the kernel's group
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass


class SandboxedExecute(Execute):
    """nbgrader's Execute, with its kernel from GradingKernelManager (nbgrader passes its own
    kernel manager as an argument, which configuration cannot override)."""

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = GradingKernelManager
        super().__init__(*args, **kwargs)
