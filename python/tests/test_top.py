"""top against the Python oracle, and results far above gRPC's default 4 MiB."""

from __future__ import annotations

import io

import pytest

from conftest import TESTDATA, books, oracle_top, read_text


@pytest.mark.parametrize("words_only,lower", [(False, False), (False, True), (True, False), (True, True)])
def test_top_all_books(client, words_only, lower):
    paths = books()[:12]
    res = client.top(paths, n=0, words_only=words_only, lower=lower)
    assert res.most_common() == oracle_top([read_text(p) for p in paths], words_only, lower)
    assert [d.name for d in res.documents] == [str(p) for p in paths]
    assert res.total.bytes == sum(p.stat().st_size for p in paths)


def test_top_n(client):
    text = read_text(TESTDATA / "alice.txt")
    res = client.top(text, n=10)
    assert res.most_common() == oracle_top([text])[:10]
    assert res.documents[0].name == "0"


def test_top_mixed_inputs(client, tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"b a b \xff\n")
    res = client.top(["a a", b"c", p, io.BytesIO(b"a")], n=0)
    assert res.most_common() == [("a", 4), ("b", 2), ("c", 1), ("\udcff", 1)]
    assert [d.name for d in res.documents] == ["0", "1", str(p), "<file 3>"]
    assert [d.bytes for d in res.documents] == [3, 1, 8, 1]
    assert [d.tokens for d in res.documents] == [None] * 4, "no stats unless asked"


# A worker once kept one program per query without its Stats flag: a job with
# stats after the same query without them got lines 0 and tokens 0.
def test_stats_after_the_same_query_without_them(client):
    texts = ["a a\n", "b c d"]
    client.top(texts, n=0)  # compiles the query without stats on the worker
    res = client.top(texts, n=0, stats=True)
    assert [(d.lines, d.tokens) for d in res.documents] == [(1, 2), (0, 3)]


def test_top_result_above_4_mib(client):
    # 600,000 distinct tokens: the packed table alone is over 4 MiB, the
    # default limit of a gRPC channel that the client raises.
    tokens = [f"w{i:07d}" for i in range(600_000)]
    text = " ".join(tokens + tokens[:1000]) + "\n"
    res = client.top(text, n=0)
    table_bytes = sum(len(e.token) + 2 for e in res.entries)  # token bytes + a length and a count each, at least
    assert table_bytes > 4 << 20
    assert len(res.entries) == 600_000
    assert res.most_common() == oracle_top([text])


def test_top_bad_n(client):
    with pytest.raises(ValueError):
        client.top("a", n=-1)
