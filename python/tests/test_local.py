"""Client() without an address: a local coordinator + worker for the client's life."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

import tally
from conftest import child_env


def _gone(pid: int) -> bool:
    # A reaped process has no /proc entry; a zombie still has one.
    return not os.path.exists(f"/proc/{pid}")


def test_local_spawn(binary, monkeypatch):
    monkeypatch.delenv("TALLY_COORDINATOR", raising=False)
    monkeypatch.setenv("TALLY_BINARY", binary)
    with tally.Client() as c:
        local = c.local_cluster
        assert local is not None and c.address == local.address
        assert c.address.startswith("127.0.0.1:")
        pids = local.pids
        assert len(pids) == 2 and all(not _gone(p) for p in pids)
        assert c.count(["the cat and the hat"], ["the", "cat"]).totals() == {"the": 2, "cat": 1}
        assert c.count_files([__file__], ["import"]).total.counts == [open(__file__).read().split().count("import")]
    assert all(_gone(p) for p in pids), "close() stops and reaps the coordinator and the worker"


def test_local_spawn_two_workers(binary):
    with tally.Client(binary=binary, local_workers=2, local_threads=1) as c:
        assert len(c.workers()) == 2
        text = "sand dune sand\n" * 50_000
        res = c.count_files([__import__("io").BytesIO(text.encode())], ["sand"], chunk_size=16 << 10)
        assert res.total.counts == [100_000]
        pids = c.local_cluster.pids
    assert len(pids) == 3 and all(_gone(p) for p in pids)


def test_one_liner_and_exit_leave_no_process(binary, tmp_path):
    # tally.Client().count(...) with no `with`, and a module-level call: the
    # processes end when the client is collected or the interpreter exits.
    script = textwrap.dedent("""
        import os, tally
        print(tally.Client().count(["a b a"], ["a"]).total.counts)
        print(tally.parallel_word_count(["x y x", "y"], ["x", "y"]))
        print(" ".join(map(str, tally.default_client().local_cluster.pids)))
    """)
    out = subprocess.run([sys.executable, "-c", script], env=child_env(TALLY_BINARY=binary), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == ["[2]", "[2, 1]"]
    pids = [int(p) for p in lines[2].split()]
    assert len(pids) == 2 and all(_gone(p) for p in pids), "atexit stopped the default client's cluster"


def test_missing_binary(monkeypatch, tmp_path):
    monkeypatch.delenv("TALLY_COORDINATOR", raising=False)
    monkeypatch.delenv("TALLY_BINARY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(tally.LocalClusterError, match="TALLY_BINARY"):
        tally.Client()
    with pytest.raises(tally.LocalClusterError, match="does not exist"):
        tally.Client(binary=str(tmp_path / "tally"))


def test_binary_that_fails(tmp_path):
    fake = tmp_path / "tally"
    fake.write_text("#!/bin/sh\necho 'no such command' >&2\nexit 2\n")
    fake.chmod(0o755)
    with pytest.raises(tally.LocalClusterError, match="exited with status 2: no such command"):
        tally.Client(binary=str(fake))


def test_streaming_keeps_memory_flat(binary, tmp_path):
    # count_files never reads a whole file: a child process counting 256 MB
    # peaks far below the file's size.
    big = tmp_path / "big.txt"
    line = b"the quick brown fox jumps over the lazy dog and the sand\n" * 1000
    with open(big, "wb") as f:
        for _ in range((256 << 20) // len(line)):
            f.write(line)
    script = textwrap.dedent(f"""
        import re, tally
        with tally.Client(binary={binary!r}) as c:
            res = c.count_files([{str(big)!r}], ["sand"])
        # VmHWM, the peak of this process's own memory (ru_maxrss can carry
        # the parent's peak over exec).
        peak = re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)
        print(res.total.counts[0], res.total.bytes, peak)
    """)
    out = subprocess.run([sys.executable, "-c", script], env=child_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    count, size, peak_kib = map(int, out.stdout.split())
    assert size == big.stat().st_size and count == size // len(line) * 1000
    assert peak_kib < 120 << 10, f"peak RSS {peak_kib} KiB for a {size >> 20} MiB file"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_killed_python_leaves_no_server(binary):
    # SIGKILL runs no atexit: the servers end through their parent-death signal.
    script = textwrap.dedent("""
        import os, signal, sys, tally
        c = tally.Client()
        print(c.local_cluster._dir, " ".join(map(str, c.local_cluster.pids)), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    out = subprocess.run([sys.executable, "-c", script], env=child_env(TALLY_BINARY=binary),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == -9, out.stderr
    logs, *pids = out.stdout.split()
    shutil.rmtree(logs)  # what close() would have removed
    pids = [int(p) for p in pids]
    assert len(pids) == 2
    deadline = time.monotonic() + 15
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(p) for p in pids), "a local server outlived its killed client"
