"""tally: count words exactly on every core of a tally cluster, from Python.

    import tally
    with tally.Client() as c:              # a local coordinator + worker
        print(c.count(["the cat and the hat"], ["the"]).totals())

tally.Client("host:port") talks to a running coordinator instead. The
counts are exactly Python's own: text.split().count(t) in token mode (see
the repository's docs/counting.md).
"""

from __future__ import annotations

import atexit
import threading
from typing import List, Optional, Sequence

from tally._client import TLS, Client, Text
from tally._errors import (
    CancelledError,
    DeadlineExceededError,
    Error,
    InvalidArgumentError,
    LocalClusterError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnavailableError,
)
from tally._local import LocalCluster
from tally._results import (
    CountResult,
    DocumentResult,
    JobInfo,
    Progress,
    TopEntry,
    TopResult,
    WorkerInfo,
)

__all__ = [
    "CancelledError", "Client", "CountResult", "DeadlineExceededError", "DocumentResult", "Error",
    "InvalidArgumentError", "JobInfo", "LocalCluster", "LocalClusterError", "NotFoundError",
    "PermissionDeniedError", "Progress", "ResourceExhaustedError", "TLS", "TopEntry", "TopResult",
    "UnavailableError", "WorkerInfo", "default_client", "parallel_word_count",
]

_default: Optional[Client] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """default_client is the Client the module-level functions share, made on
    first use as Client() makes one ($TALLY_COORDINATOR, else a local
    cluster) and closed at exit."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def parallel_word_count(text_bodies: Sequence[Text], words: Sequence[str]) -> List[int]:
    """parallel_word_count is [t.split().count(w) for t, w in zip(text_bodies, words)],
    counted in one tally job by default_client(): each text's count of its own word."""
    return default_client().parallel_word_count(text_bodies, words)


@atexit.register
def _close_default() -> None:
    global _default
    if _default is not None:
        _default.close()
        _default = None
