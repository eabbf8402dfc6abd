"""The seed blog's comparison, with pytest-benchmark: count one word per book
(text.split().count(word)) over books whose text is repeated 10 times.

Rows: pure Python sequential, ThreadPoolExecutor and ProcessPoolExecutor (2
workers each, one book per task), str.count (substrings: a different answer,
checked against tally's substring mode), and tally.parallel_word_count
through the client, against a local coordinator + 1 worker (what Client()
starts) and a local cluster of a coordinator + 2 workers. Every row checks
its answer.

    TALLY_BINARY=bin/tally python3 -m pytest python/benchmarks --benchmark-sort=mean

The books are ../shared/corpora/*.txt beside the repository when present,
else testdata/text/alice.txt and zen.txt. TALLY_BENCH_QUICK=1 (CI) repeats
each text once and runs one round.
"""

from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path
from typing import List

import pytest

import tally

REPO = Path(__file__).resolve().parents[2]
QUICK = os.environ.get("TALLY_BENCH_QUICK") == "1"
REPEAT = 1 if QUICK else int(os.environ.get("TALLY_BENCH_REPEAT", "10"))
ROUNDS = 1 if QUICK else int(os.environ.get("TALLY_BENCH_ROUNDS", "3"))
WORKERS = 2
WORDS = ["sand", "Holmes", "Rochester", "whale", "Bilbo", "Dobby", "Elizabeth", "Alice"]


def book_paths() -> List[Path]:
    corpora = REPO.parent / "shared" / "corpora"
    if corpora.is_dir() and any(corpora.glob("*.txt")):
        return sorted(corpora.glob("*.txt"))
    return [REPO / "testdata" / "text" / "alice.txt", REPO / "testdata" / "text" / "zen.txt"]


@pytest.fixture(scope="session")
def books():
    texts = [p.read_bytes().decode("utf-8", "surrogateescape") * REPEAT for p in book_paths()]
    words = [WORDS[i % len(WORDS)] for i in range(len(texts))]
    return texts, words


@pytest.fixture(scope="session")
def oracle(books):
    texts, words = books
    return [t.split().count(w) for t, w in zip(texts, words)]


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("TALLY_BINARY") or str(REPO / "bin" / "tally")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no tally binary at {path}: run go build -o bin/tally ./cmd/tally or set TALLY_BINARY")
    return path


def count_one(text: str, word: str) -> int:
    return text.split().count(word)


def run(benchmark, fn, *args):
    return benchmark.pedantic(fn, args=args, rounds=ROUNDS, iterations=1, warmup_rounds=0)


def label(benchmark, books):
    texts, _ = books
    benchmark.extra_info["books"] = len(texts)
    benchmark.extra_info["MB"] = round(sum(len(t) for t in texts) / 1e6, 1)


def test_python_sequential(benchmark, books, oracle):
    label(benchmark, books)
    got = run(benchmark, lambda texts, words: [count_one(t, w) for t, w in zip(texts, words)], *books)
    assert got == oracle


def test_python_threads(benchmark, books, oracle):
    def threads(texts, words):
        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as ex:
            return list(ex.map(count_one, texts, words))
    label(benchmark, books)
    assert run(benchmark, threads, *books) == oracle


def test_python_processes(benchmark, books, oracle):
    def processes(texts, words):
        with concurrent.futures.ProcessPoolExecutor(max_workers=WORKERS) as ex:
            return list(ex.map(count_one, texts, words))
    label(benchmark, books)
    assert run(benchmark, processes, *books) == oracle


def test_python_str_count(benchmark, books, binary):
    # str.count counts substrings ("sand" in "thousand"): its own answer,
    # checked against tally's substring mode, not the token oracle.
    texts, words = books
    label(benchmark, books)
    got = run(benchmark, lambda texts, words: [t.count(w) for t, w in zip(texts, words)], *books)
    with tally.Client(binary=binary) as c:
        res = c.count(texts, sorted(set(words)), mode="substring")
    column = {w: i for i, w in enumerate(sorted(set(words)))}
    assert got == [d.counts[column[w]] for d, w in zip(res.documents, words)]


@pytest.mark.parametrize("workers", [1, 2], ids=["local-1-worker", "local-cluster-2-workers"])
def test_tally(benchmark, books, oracle, binary, workers):
    label(benchmark, books)
    with tally.Client(binary=binary, local_workers=workers) as c:
        assert run(benchmark, c.parallel_word_count, *books) == oracle
