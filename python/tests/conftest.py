"""Fixtures: a real coordinator and worker (the tally binary, $TALLY_BINARY) on
127.0.0.1, the books the oracle checks, and the Python oracle itself."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import List

import pytest

import tally

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata" / "text"
CORPORA = REPO.parent / "shared" / "corpora"  # optional: the team's machines and CI have it


@pytest.fixture(scope="session")
def binary() -> str:
    path = os.environ.get("TALLY_BINARY") or str(REPO / "bin" / "tally")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no tally binary at {path}: run go build -o bin/tally ./cmd/tally or set TALLY_BINARY")
    return path


class Cluster:
    """Cluster is a coordinator and workers started here with subprocess,
    independently of tally.LocalCluster, which the local-spawn tests check."""

    def __init__(self, binary: str, tmp: Path, workers: int = 1, coordinator_args: List[str] = (),
                 worker_args: List[str] = ()):
        self.procs = []
        self.tmp = tmp
        try:
            line = self._start(binary, "coordinator", ["coordinator", "--listen", "127.0.0.1:0",
                                                       "--gossip", "127.0.0.1:0", *coordinator_args])
            m = re.match(r"coordinator listening on (\S+), gossip on (\S+)$", line)
            assert m, f"coordinator printed {line!r}"
            self.address, gossip = m.groups()
            for i in range(workers):
                line = self._start(binary, f"worker{i}", ["worker", "--join", gossip, "--listen", "127.0.0.1:0",
                                                          "--gossip", "127.0.0.1:0", *worker_args])
                assert line.startswith("worker "), f"worker printed {line!r}"
        except BaseException:
            self.stop()
            raise

    def _start(self, binary, name, args) -> str:
        out = self.tmp / f"{name}.out"
        with open(out, "wb") as o, open(self.tmp / f"{name}.log", "wb") as e:
            p = subprocess.Popen([binary, *args], stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            data = out.read_bytes()
            if b"\n" in data:
                return data.split(b"\n", 1)[0].decode()
            assert p.poll() is None, f"{name} exited: {(self.tmp / f'{name}.log').read_text()}"
            time.sleep(0.01)
        raise AssertionError(f"{name} printed no address in 20 s")

    def wait_for_workers(self, client: tally.Client, n: int) -> None:
        deadline = time.monotonic() + 20
        while len([w for w in client.workers() if w.state == "ready"]) < n:
            assert time.monotonic() < deadline, f"fewer than {n} workers ready after 20 s"
            time.sleep(0.02)

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="session")
def cluster(binary, tmp_path_factory):
    c = Cluster(binary, tmp_path_factory.mktemp("cluster"))
    with tally.Client(c.address) as client:
        c.wait_for_workers(client, 1)
    yield c
    c.stop()


@pytest.fixture
def client(cluster):
    with tally.Client(cluster.address) as c:
        yield c


def books() -> List[Path]:
    """books are the texts that ship in the repository, and the corpora beside it when present."""
    found = sorted(TESTDATA.glob("*.txt"))
    if CORPORA.is_dir():
        found += sorted(CORPORA.glob("*.txt"))
    return found


def read_text(path: Path) -> str:
    """read_text decodes a file as the counting rules do (docs/counting.md)."""
    return path.read_bytes().decode("utf-8", "surrogateescape")


# The oracle: Python's own builtins, as docs/counting.md defines every answer.

def oracle_count(text: str, target: str, mode: str = "token", ignore_case: bool = False) -> int:
    if mode == "token":
        if ignore_case:
            return sum(1 for w in text.split() if re.fullmatch(re.escape(target), w, re.I))
        return text.split().count(target)
    if mode == "word":
        return len(re.findall(r"(?<!\w)" + re.escape(target) + r"(?!\w)", text, re.I if ignore_case else 0))
    if ignore_case:
        return len(re.findall(re.escape(target), text, re.I))
    return text.count(target)


def _lower(token: str) -> str:
    # Unicode simple lowercase mapping: str.lower() per character, except
    # U+0130, whose full mapping has two characters.
    return "".join("i" if c == "\u0130" else c.lower() for c in token)


def oracle_top(texts: List[str], words_only: bool = False, lower: bool = False) -> List[tuple]:
    counter = collections.Counter()
    for text in texts:
        tokens = re.findall(r"\w+", text) if words_only else text.split()
        counter.update(_lower(t) for t in tokens) if lower else counter.update(tokens)
    key = lambda kv: (-kv[1], kv[0].encode("utf-8", "surrogateescape"))
    return sorted(counter.items(), key=key)


def child_env(**extra: str) -> dict:
    """child_env is the environment of a child Python that imports the same
    tally package as these tests (installed, or the source tree) and has no
    coordinator named."""
    env = {**os.environ, **extra, "PYTHONPATH": str(Path(tally.__file__).resolve().parents[1])}
    env.pop("TALLY_COORDINATOR", None)
    return env
