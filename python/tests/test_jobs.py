"""jobs, job, cancel and workers; a running job cancelled from another thread."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time

import grpc
import pytest

import tally
from conftest import child_env


class SlowFile:
    """SlowFile is a file object that hands out a line every few milliseconds,
    for at most `limit` reads: a job that keeps running while a test acts on it."""

    name = "slow.txt"

    def __init__(self, limit: int = 3000, delay: float = 0.01):
        self.reads, self.limit, self.delay = 0, limit, delay

    def read(self, n: int) -> bytes:
        if self.reads >= self.limit:
            return b""
        self.reads += 1
        time.sleep(self.delay)
        return b"the sand and the sea\n"


def test_jobs_job_workers(client):
    res = client.count_files([__file__], ["import", "the"])
    jobs = client.jobs()
    mine = [j for j in jobs if j.id == res.job_id]
    assert len(mine) == 1
    j = mine[0]
    assert (j.state, j.kind, j.mode, j.targets, j.documents, j.error) == ("succeeded", "count", "token", ["import", "the"], 1, "")
    assert j.created_at is not None and j.finished_at is not None and j.finished_at >= j.created_at
    assert j.progress.bytes_counted == res.total.bytes
    assert client.job(res.job_id).state == "succeeded"
    assert [x.created_at for x in jobs] == sorted((x.created_at for x in jobs), reverse=True), "newest first"
    top = client.top("a b", n=1)
    assert client.jobs()[0].id == top.job_id and client.jobs()[0].kind == "top"
    workers = client.workers()
    assert len(workers) == 1 and workers[0].state == "ready" and workers[0].cores >= 1


def test_cancel_running_job(client):
    ids, errors = [], []
    started = threading.Event()

    def on_progress(p: tally.Progress) -> None:
        ids.append(p.job_id)
        started.set()

    def run() -> None:
        try:
            client.count_files([SlowFile()], ["sand"], progress=on_progress)
        except BaseException as e:  # the assertion is on the main thread
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    try:
        assert started.wait(20), "no progress within 20 s"
        info = client.cancel(ids[0])
        assert info.id == ids[0] and info.state == "canceled"
    finally:
        t.join(30)
    assert not t.is_alive(), "count_files did not return within 30 s of its job being cancelled"
    assert len(errors) == 1 and isinstance(errors[0], tally.CancelledError), errors
    assert errors[0].code == grpc.StatusCode.CANCELLED
    assert client.job(ids[0]).state == "canceled"
    # Cancelling a finished job keeps its state.
    assert client.cancel(ids[0]).state == "canceled"


def test_progress_callback_error_cancels_the_job(client):
    ids = []

    def on_progress(p):
        ids.append(p.job_id)
        raise KeyError("stop here")

    with pytest.raises(KeyError):
        client.count_files([SlowFile()], ["sand"], progress=on_progress)
    deadline = time.monotonic() + 10
    while client.job(ids[0]).state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.job(ids[0]).state in ("canceled", "failed")


def test_read_error_mid_upload_fails_the_job(client):
    # A file that fails after some data must never be counted as complete.
    class Broken:
        name = "broken.txt"
        reads = 0

        def read(self, n):
            self.reads += 1
            if self.reads > 3:
                raise OSError(5, "Input/output error")
            return b"the the\n"

    before = {j.id for j in client.jobs()}
    with pytest.raises(OSError, match="Input/output error"):
        client.count_files([Broken()], ["the"])
    new = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = [j for j in client.jobs() if j.id not in before]
        if new and new[0].state != "running":
            break
        time.sleep(0.05)
    assert [j.state for j in new] in ([], ["canceled"], ["failed"]), new


def test_ctrl_c_cancels_the_job(cluster, client):
    # A child counts a slow file; SIGINT (Ctrl-C) in it must cancel the job
    # on the coordinator, not leave it running.
    script = textwrap.dedent(f"""
        import sys, time, tally
        class Slow:
            name = "slow.txt"
            def read(self, n):
                time.sleep(0.01)
                return b"the sand\\n"
        def show(p):
            print(p.job_id, flush=True)
        try:
            tally.Client({cluster.address!r}).count_files([Slow()], ["sand"], progress=show)
        except KeyboardInterrupt:
            sys.exit(130)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], env=child_env(), stdout=subprocess.PIPE, text=True)
    try:
        job_id = child.stdout.readline().strip()
        assert job_id, "the child printed no job id"
        assert client.job(job_id).state == "running"
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=20) == 130
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 10
    while client.job(job_id).state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.job(job_id).state == "canceled"
