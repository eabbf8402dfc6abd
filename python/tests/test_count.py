"""count, count_files and parallel_word_count against the Python oracle."""

from __future__ import annotations

import io
import random

import pytest

import tally
from conftest import books, oracle_count, read_text

SMALL = [
    "the cat and the hat\n",
    "The end of THE story, the end.\nthe",
    "",
    "naïve café naïve\u00a0café\u2003Ärger ärger ÄRGER\n",
    "İstanbul istanbul ıi I i\x1cthe\x1fthe",
    "snake_case snake snake-case _snake_ snake1",
]
TARGETS = ["the", "The", "end", "café", "ärger", "istanbul", "i", "snake", "snake_case"]


@pytest.mark.parametrize("mode", ["token", "word", "substring"])
@pytest.mark.parametrize("ignore_case", [False, True])
def test_count_small_texts(client, mode, ignore_case):
    res = client.count(SMALL, TARGETS, mode=mode, ignore_case=ignore_case)
    assert res.job_id == "", "small valid texts go in one CountTexts call"
    assert res.targets == TARGETS
    assert [d.name for d in res.documents] == [str(i) for i in range(len(SMALL))]
    for text, doc in zip(SMALL, res.documents):
        want = [oracle_count(text, t, mode, ignore_case) for t in TARGETS]
        assert doc.counts == want, f"{text!r} {mode} ignore_case={ignore_case}: got {doc.counts}, want {want}"
        assert doc.bytes == len(text.encode())
    assert res.total.counts == [sum(col) for col in zip(*(d.counts for d in res.documents))]
    assert res.totals() == dict(zip(TARGETS, res.total.counts))


def test_count_one_text_one_target(client):
    res = client.count("a b a", "a")
    assert res.total.counts == [2]
    assert len(res.documents) == 1


def test_count_stats(client):
    res = client.count(SMALL, ["the"], stats=True)
    for text, doc in zip(SMALL, res.documents):
        assert (doc.lines, doc.tokens) == (text.count("\n"), len(text.split()))
    assert client.count(SMALL, ["the"]).documents[0].lines is None, "no stats unless asked"


def test_count_invalid_utf8_goes_through_runjob(client):
    # bytes that are not UTF-8 cannot travel as a proto string: they are
    # uploaded, and counted as the oracle decodes them (surrogateescape).
    data = [b"caf\xe9 the \xff\xfe the\n", b"the\xa0the the"]
    res = client.count(data, ["the", "caf"], mode="word")
    assert res.job_id != ""
    for raw, doc in zip(data, res.documents):
        text = raw.decode("utf-8", "surrogateescape")
        assert doc.counts == [oracle_count(text, "the", "word"), oracle_count(text, "caf", "word")]


def test_count_large_texts_stream_through_runjob(client):
    rng = random.Random(7)
    words = ["sand", "the", "Sand", "dune", "sandy", "x" * 50]
    texts = [" ".join(rng.choice(words) for _ in range(300_000)) + "\n" for _ in range(6)]  # ~12 MB in all
    assert sum(map(len, texts)) > tally._client.SMALL_TEXTS_BYTES
    res = client.count(texts, ["sand", "Sand"])
    assert res.job_id != "", "texts above SMALL_TEXTS_BYTES are uploaded as a job"
    for text, doc in zip(texts, res.documents):
        assert doc.counts == [text.split().count("sand"), text.split().count("Sand")]


def test_count_files_books(client):
    paths = books()
    targets = ["the", "Holmes", "sand", "Alice", "Rochester", "Beautiful"]
    res = client.count_files(paths, targets, stats=True)
    assert len(res.documents) == len(paths)
    for path, doc in zip(paths, res.documents):
        data = path.read_bytes()
        tokens = data.decode("utf-8", "surrogateescape").split()
        assert doc.name == str(path)
        assert doc.counts == [tokens.count(t) for t in targets], path.name
        assert (doc.bytes, doc.lines, doc.tokens) == (len(data), data.count(b"\n"), len(tokens)), path.name


@pytest.mark.parametrize("mode", ["word", "substring"])
def test_count_files_modes_ignore_case(client, mode):
    paths = books()[:12]
    targets = ["the", "alice", "ß", "état"]
    res = client.count_files(paths, targets, mode=mode, ignore_case=True)
    for path, doc in zip(paths, res.documents):
        text = read_text(path)
        assert doc.counts == [oracle_count(text, t, mode, True) for t in targets], path.name


def test_count_files_file_objects(client, tmp_path):
    p = tmp_path / "book.txt"
    p.write_bytes(b"the \xe9 the\nthe end\n")
    with open(p, "rb") as binary, open(p, "r", encoding="utf-8", errors="surrogateescape") as text:
        mem = io.BytesIO(b"the the the")
        res = client.count_files([binary, text, mem, str(p), p], ["the"])
    assert [d.name for d in res.documents] == [str(p), str(p), "<file 2>", str(p), str(p)]
    assert [d.counts for d in res.documents] == [[3], [3], [3], [3], [3]]
    n = p.stat().st_size
    assert [d.bytes for d in res.documents] == [n, n, 11, n, n]


def test_count_files_progress(client, tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"the sand and the sea\n" * 500_000)  # 10.5 MB
    events = []
    res = client.count_files(p, ["sand"], progress=events.append, chunk_size=64 << 10)
    assert res.total.counts == [500_000]
    assert events, "the coordinator sends a progress event at once"
    assert all(e.job_id == res.job_id for e in events)
    # The first event may come before the document's header, whose size it then lacks.
    assert all(e.bytes_total in (0, p.stat().st_size) for e in events)
    received = [e.bytes_received for e in events]
    assert received == sorted(received)


BOOK_WORDS = ["sand", "Holmes", "Alice", "the", "Bilbo", "whale", "Dobby", "Rochester", "and", "Elizabeth"]


def test_parallel_word_count_books(client):
    texts = [read_text(p) for p in books()]
    words = [BOOK_WORDS[i % len(BOOK_WORDS)] for i in range(len(texts))]
    want = [t.split().count(w) for t, w in zip(texts, words)]
    assert client.parallel_word_count(texts, words) == want


def test_parallel_word_count_words_no_token_can_be(client):
    texts = ["a b a", "x  y", "q r", "", "a\nb"]
    words = ["a", "", "q r", "a", "a\nb"]
    want = [t.split().count(w) for t, w in zip(texts, words)]
    assert client.parallel_word_count(texts, words) == want == [2, 0, 0, 0, 0]
    assert client.parallel_word_count([], []) == []
    assert client.parallel_word_count(["a"], [" "]) == [0]


def test_parallel_word_count_repeated_words(client):
    texts = ["the cat", "the the", "cat cat cat", "dog"]
    words = ["the", "the", "cat", "the"]
    assert client.parallel_word_count(texts, words) == [1, 2, 3, 0]


def test_module_parallel_word_count(cluster, monkeypatch):
    # The module-level function uses a shared Client: $TALLY_COORDINATOR names ours.
    monkeypatch.setenv("TALLY_COORDINATOR", cluster.address)
    monkeypatch.setattr(tally, "_default", None)
    texts = [read_text(p) for p in books()[:5]]
    words = ["the", "Alice", "and", "sand", "of"]
    try:
        got = tally.parallel_word_count(texts, words)
        assert tally.default_client().address == cluster.address
        assert tally.default_client().local_cluster is None
    finally:
        tally._close_default()
    assert got == [t.split().count(w) for t, w in zip(texts, words)]


def test_count_large_non_ascii_text_in_pieces(client):
    # A large str is encoded a piece at a time; pieces of a non-ASCII text
    # must still join to its exact bytes (multi-byte and surrogateescape
    # characters included).
    unit = "café \udcff naïve\u2003café\ncafé😀 "
    text = unit * (tally._client.SMALL_TEXTS_BYTES // len(unit) + 1000)
    assert len(text) > tally._client.SMALL_TEXTS_BYTES
    res = client.count([text, "café"], ["café"], mode="substring", stats=True)
    assert res.job_id != ""
    assert res.documents[0].counts == [text.count("café")]
    assert res.documents[0].bytes == len(text.encode("utf-8", "surrogateescape"))
    assert res.documents[0].tokens == len(text.split())
    with pytest.raises(tally.InvalidArgumentError, match="UTF-8"):
        client.count(["a" * tally._client.SMALL_TEXTS_BYTES + "\ud800"], ["a"])
