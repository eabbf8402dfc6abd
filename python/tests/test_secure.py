"""A coordinator that requires a token, and one that serves TLS."""

from __future__ import annotations

import subprocess

import pytest

import tally
from conftest import REPO, Cluster


def test_token(binary, tmp_path):
    (tmp_path / "token").write_text("s3cret\n")
    c = Cluster(binary, tmp_path, coordinator_args=["--token-file", str(tmp_path / "token")])
    try:
        with tally.Client(c.address, token="s3cret") as good:
            c.wait_for_workers(good, 1)
            assert good.count(["a b a"], "a").total.counts == [2]
            assert good.count_files([__file__], "token").job_id
        for token in (None, "wrong"):
            with tally.Client(c.address, token=token) as bad:
                with pytest.raises(tally.PermissionDeniedError):
                    bad.count(["a"], "a")
                with pytest.raises(tally.PermissionDeniedError):
                    bad.count_files([__file__], "a")
    finally:
        c.stop()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    subprocess.run(["go", "run", "./scripts/gencerts", "-dir", str(d)], cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    return d


def test_tls(binary, certs, tmp_path):
    tls = lambda role: ["--tls-ca", str(certs / "ca.pem"), "--tls-cert", str(certs / f"{role}.pem"),
                        "--tls-key", str(certs / f"{role}-key.pem")]
    c = Cluster(binary, tmp_path, coordinator_args=[*tls("coordinator"), "--token", "s3cret"], worker_args=tls("worker"))
    try:
        ca = str(certs / "ca.pem")
        with tally.Client(c.address, token="s3cret", tls=tally.TLS(ca=ca)) as good:
            c.wait_for_workers(good, 1)
            assert good.count(["a b a"], "a").total.counts == [2]
        mutual = {"ca": ca, "cert": str(certs / "client.pem"), "key": str(certs / "client-key.pem")}
        with tally.Client(c.address, tls=mutual) as good:
            assert good.top(["a b a"], n=1).most_common() == [("a", 2)]
        with tally.Client(c.address, tls=tally.TLS(ca=ca), timeout=10) as no_token:
            with pytest.raises(tally.PermissionDeniedError):
                no_token.count(["a"], "a")
        with tally.Client(c.address, token="s3cret", timeout=10) as plaintext:
            with pytest.raises(tally.UnavailableError, match="serves TLS, connect with tls="):
                plaintext.jobs()
        with tally.Client(c.address, token="s3cret", tls=True, timeout=10) as unknown_ca:
            with pytest.raises(tally.UnavailableError):
                unknown_ca.jobs()
        with tally.Client(c.address, token="s3cret", tls=tally.TLS(ca=ca, server_name="tally-coordinator")) as named:
            assert named.workers()[0].state == "ready"
        with tally.Client(c.address, token="s3cret", tls=tally.TLS(ca=ca, server_name="elsewhere"), timeout=10) as wrong:
            with pytest.raises(tally.UnavailableError):
                wrong.jobs()
        with pytest.raises(ValueError, match="cert and key go together"):
            tally.Client(c.address, tls={"ca": ca, "cert": str(certs / "client.pem")})
    finally:
        c.stop()
