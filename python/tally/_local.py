"""A coordinator and workers of the tally binary on 127.0.0.1, for a Client given no address."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import List, Optional

from tally._errors import LocalClusterError

_COORDINATOR_LINE = re.compile(r"^coordinator listening on (\S+), gossip on (\S+)$")
_WORKER_LINE = re.compile(r"^worker (\S+) listening on (\S+), gossip on (\S+)$")


def find_binary(binary: Optional[str] = None) -> str:
    """find_binary is the tally binary: binary if given, else $TALLY_BINARY, else tally on PATH."""
    given = binary or os.environ.get("TALLY_BINARY")
    if given:
        if os.path.isfile(given) and os.access(given, os.X_OK):
            return given
        raise LocalClusterError(f"the tally binary {given!r} does not exist or is not executable")
    found = shutil.which("tally")
    if found is None:
        raise LocalClusterError(
            "no coordinator address (Client('host:port') or TALLY_COORDINATOR) and no tally binary "
            "to start a local one: put tally on PATH (go build -o bin/tally ./cmd/tally), "
            "set TALLY_BINARY, or pass binary="
        )
    return found


class LocalCluster:
    """LocalCluster runs `tally coordinator` and `tally worker` processes on
    127.0.0.1 with free ports until close(), which stops and reaps them.

    Each process logs to a file in a temporary directory, so that a chatty
    log never fills a pipe and blocks it; a process that fails to start is
    reported with the end of its log.
    """

    def __init__(self, binary: Optional[str] = None, workers: int = 1, threads: Optional[int] = None,
                 startup_timeout: float = 30.0):
        if workers < 1:
            raise ValueError(f"a local cluster needs at least one worker, got {workers}")
        self.binary = find_binary(binary)
        self.workers = workers
        self._dir = tempfile.mkdtemp(prefix="tally-local-")
        self._procs: List[subprocess.Popen] = []
        try:
            coord = self._start("coordinator", ["coordinator", "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0"])
            m = self._first_line(coord, "coordinator", _COORDINATOR_LINE, startup_timeout)
            self.address, self.gossip = m.group(1), m.group(2)
            for i in range(workers):
                args = ["worker", "--join", self.gossip, "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0"]
                if threads:
                    args += ["--threads", str(threads)]
                w = self._start(f"worker{i}", args)
                self._first_line(w, f"worker{i}", _WORKER_LINE, startup_timeout)
        except BaseException:
            self.close()
            raise

    @property
    def pids(self) -> List[int]:
        """pids are the processes' ids, the coordinator's first."""
        return [p.pid for p in self._procs]

    def _start(self, name: str, args: List[str]) -> subprocess.Popen:
        out = open(os.path.join(self._dir, name + ".out"), "wb")
        err = open(os.path.join(self._dir, name + ".log"), "wb")
        cmd = [self.binary, *args]
        setpriv = shutil.which("setpriv")
        if setpriv and threading.current_thread() is threading.main_thread():
            # If Python dies without running close() (SIGKILL), the kernel
            # stops the process. The signal follows the thread that started
            # it, hence only from the main thread, which lives as long as
            # the interpreter.
            cmd = [setpriv, "--pdeathsig", "TERM", *cmd]
        try:
            # A session of its own: a Ctrl-C meant for Python does not stop
            # the cluster under a client that is about to cancel its job.
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        except OSError as e:
            raise LocalClusterError(f"start {self.binary} {args[0]}: {e}") from e
        finally:
            out.close()
            err.close()
        self._procs.append(p)
        return p

    def _first_line(self, p: subprocess.Popen, name: str, pattern: re.Pattern, timeout: float) -> re.Match:
        """_first_line waits for the line a tally server prints once it listens."""
        path = os.path.join(self._dir, name + ".out")
        deadline = time.monotonic() + timeout
        while True:
            with open(path, "rb") as f:
                data = f.read()
            if b"\n" in data:
                line = data.split(b"\n", 1)[0].decode("utf-8", "replace")
                m = pattern.match(line)
                if m is None:
                    raise LocalClusterError(f"local {name}: unexpected first line {line!r}")
                return m
            if p.poll() is not None:
                raise LocalClusterError(f"local {name} exited with status {p.returncode}: {self.log_tail(name)}")
            if time.monotonic() > deadline:
                raise LocalClusterError(f"local {name} did not start within {timeout:.0f} s: {self.log_tail(name)}")
            time.sleep(0.01)

    def log_tail(self, name: str, limit: int = 2000) -> str:
        """log_tail is the end of a process's log (name: "coordinator", "worker0", ...)."""
        try:
            with open(os.path.join(self._dir, name + ".log"), "rb") as f:
                return f.read()[-limit:].decode("utf-8", "replace").strip() or "(no log)"
        except OSError:
            return "(no log)"

    def close(self) -> None:
        """close stops the workers, then the coordinator, and reaps them; safe to call twice."""
        procs, self._procs = self._procs, []
        for p in reversed(procs):  # workers first: the coordinator sees them leave
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = ""
