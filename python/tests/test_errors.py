"""Bad input and unreachable coordinators raise clear errors, never hang."""

from __future__ import annotations

import os

import grpc
import pytest

import tally


def test_unreachable_address():
    with tally.Client("127.0.0.1:1", timeout=10) as c:
        with pytest.raises(tally.UnavailableError) as e:
            c.count(["a"], ["a"])
        assert e.value.code == grpc.StatusCode.UNAVAILABLE
        assert isinstance(e.value, tally.Error) and e.value.message
        with pytest.raises(tally.UnavailableError):
            c.count_files([__file__], ["a"])
        with pytest.raises(tally.UnavailableError):
            c.jobs()


def test_bad_mode(client):
    with pytest.raises(tally.InvalidArgumentError, match="unknown mode 'regex'"):
        client.count(["a"], ["a"], mode="regex")
    with pytest.raises(ValueError):  # InvalidArgumentError is a ValueError too
        client.count_files([__file__], ["a"], mode="tokens")


def test_missing_file(client, tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError):
        client.count_files([__file__, missing], ["a"])
    with pytest.raises(IsADirectoryError):
        client.count_files([tmp_path], ["a"])
    with pytest.raises(FileNotFoundError):
        client.top(missing)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        client.count_files([fifo], ["a"])


@pytest.mark.parametrize("targets,why", [
    ([], "target"),
    ([""], "empty"),
    (["two words"], "whitespace"),
    (["line\nbreak"], "newline"),
])
def test_bad_targets(client, targets, why):
    for call in (lambda: client.count(["a b"], targets), lambda: client.count_files([__file__], targets)):
        with pytest.raises(tally.InvalidArgumentError) as e:
            call()
        assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert why in e.value.message


def test_bad_argument_types(client):
    with pytest.raises(TypeError):
        client.count([1], ["a"])
    with pytest.raises(TypeError):
        client.count(["a"], [None])
    with pytest.raises(ValueError, match="one word per text"):
        client.parallel_word_count(["a", "b"], ["a"])
    with pytest.raises(tally.InvalidArgumentError):
        client.count(["a"], ["\ud800"])  # a lone surrogate is no UTF-8


def test_unknown_job(client):
    with pytest.raises(tally.NotFoundError) as e:
        client.job("no-such-job")
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(tally.NotFoundError):
        client.cancel("no-such-job")


def test_closed_client(cluster):
    c = tally.Client(cluster.address)
    c.close()
    c.close()  # twice is fine
    with pytest.raises(tally.Error, match="closed"):
        c.count(["a"], ["a"])


def test_token_refused_in_clear_off_loopback():
    with pytest.raises(ValueError, match="refusing to send the token"):
        tally.Client("192.0.2.1:7070", token="s3cret")
    tally.Client("192.0.2.1:7070", token="s3cret", insecure=True).close()


def test_default_port():
    with tally.Client("localhost", timeout=5) as c:
        assert c.address == "localhost:7070"
