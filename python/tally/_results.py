"""The answers of a coordinator as plain dataclasses, and their conversion from protobuf."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from tally.v1 import common_pb2, coordinator_pb2


@dataclass
class DocumentResult:
    """DocumentResult is one document's answer (or the total over all of them).

    counts is parallel to the job's targets (count jobs only). bytes is
    len(data); lines and tokens (data.count(b"\\n") and len(text.split())) are
    set only when the call asked for stats=True.
    """

    name: str
    bytes: int
    counts: List[int] = field(default_factory=list)
    lines: Optional[int] = None
    tokens: Optional[int] = None


@dataclass
class CountResult:
    """CountResult is a count job's answer: per document, and the total."""

    targets: List[str]
    documents: List[DocumentResult]
    total: DocumentResult
    job_id: str = ""  # empty for small texts counted in one unary call
    workers: int = 0  # distinct workers that counted chunks of the job
    elapsed: float = 0.0  # seconds, on the coordinator

    def totals(self) -> Dict[str, int]:
        """totals maps each target to its count over all documents."""
        return dict(zip(self.targets, self.total.counts))


@dataclass
class TopEntry:
    """TopEntry is one row of a frequency table."""

    token: str  # decoded as UTF-8 with surrogateescape, like the oracle's text
    count: int


@dataclass
class TopResult:
    """TopResult is a top job's answer: the table (count descending, then the
    token's bytes ascending) and each document's size."""

    entries: List[TopEntry]
    documents: List[DocumentResult]
    total: DocumentResult
    job_id: str = ""
    workers: int = 0
    elapsed: float = 0.0

    def most_common(self) -> List[Tuple[str, int]]:
        """most_common is the table as (token, count) pairs, like Counter.most_common."""
        return [(e.token, e.count) for e in self.entries]


@dataclass
class Progress:
    """Progress is how far a running job is, reported every quarter second."""

    job_id: str
    bytes_received: int
    bytes_total: int  # the sum of the documents' known sizes, 0 if none is known
    bytes_counted: int
    chunks_done: int
    workers: int
    waiting: str  # why the job is not progressing, or ""


@dataclass
class JobInfo:
    """JobInfo is a job as the coordinator remembers it."""

    id: str
    state: str  # "running", "succeeded", "failed" or "canceled"
    kind: str  # "count" or "top"
    mode: str  # "token", "word" or "substring" for count jobs, else ""
    targets: List[str]  # possibly only the first few once the job ended
    created_at: Optional[datetime.datetime]
    finished_at: Optional[datetime.datetime]
    error: str
    documents: int
    progress: Progress


@dataclass
class WorkerInfo:
    """WorkerInfo is a live worker as the coordinator sees it."""

    name: str
    address: str
    cores: int
    state: str  # "connecting", "ready" or "failed"
    in_flight: int
    chunks_done: int


_MODES = {"token": common_pb2.MODE_TOKEN, "word": common_pb2.MODE_WORD, "substring": common_pb2.MODE_SUBSTRING}
_MODE_NAMES = {v: k for k, v in _MODES.items()}
_STATES = {
    coordinator_pb2.JOB_STATE_RUNNING: "running",
    coordinator_pb2.JOB_STATE_SUCCEEDED: "succeeded",
    coordinator_pb2.JOB_STATE_FAILED: "failed",
    coordinator_pb2.JOB_STATE_CANCELED: "canceled",
}


def mode_to_proto(mode: str) -> int:
    """mode_to_proto maps a mode name to its enum; ValueError for an unknown one."""
    try:
        return _MODES[mode]
    except (KeyError, TypeError):
        raise ValueError(f"unknown mode {mode!r}: want one of {', '.join(_MODES)}") from None


def document(m: coordinator_pb2.DocumentResult) -> DocumentResult:
    s = m.stats
    return DocumentResult(
        name=m.name,
        bytes=s.bytes,
        counts=list(m.counts),
        lines=s.lines if s.HasField("lines") else None,
        tokens=s.tokens if s.HasField("tokens") else None,
    )


def count_result(targets: List[str], job_id: str, m) -> CountResult:
    """count_result converts a JobResult or a CountTextsResponse."""
    return CountResult(
        targets=list(targets),
        documents=[document(d) for d in m.documents],
        total=document(m.total),
        job_id=job_id,
        workers=getattr(m, "workers", 0),
        elapsed=getattr(m, "elapsed_seconds", 0.0),
    )


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def top_entries(m: coordinator_pb2.JobResult) -> List[TopEntry]:
    """top_entries unpacks the frequency table, packed (top_table) or not (top)."""
    if not m.HasField("top_table"):
        return [TopEntry(_decode(t.raw) if t.raw else t.token, t.count) for t in m.top]
    t = m.top_table
    lengths, counts, tokens = t.lengths, t.counts, t.tokens
    if len(lengths) != len(counts) or sum(lengths) != len(tokens):
        # Never hand back a table cut short or shifted.
        raise ValueError(f"malformed top table: {len(lengths)} lengths, {len(counts)} counts, {len(tokens)} token bytes")
    out, off = [], 0
    for n, c in zip(lengths, counts):
        out.append(TopEntry(_decode(tokens[off : off + n]), c))
        off += n
    return out


def top_result(job_id: str, m: coordinator_pb2.JobResult) -> TopResult:
    return TopResult(
        entries=top_entries(m),
        documents=[document(d) for d in m.documents],
        total=document(m.total),
        job_id=job_id,
        workers=m.workers,
        elapsed=m.elapsed_seconds,
    )


def progress(job_id: str, p: coordinator_pb2.JobProgress) -> Progress:
    return Progress(
        job_id=job_id,
        bytes_received=p.bytes_received,
        bytes_total=p.bytes_total,
        bytes_counted=p.bytes_counted,
        chunks_done=p.chunks_done,
        workers=p.workers,
        waiting=p.waiting,
    )


def _time(m, name: str) -> Optional[datetime.datetime]:
    if not m.HasField(name):
        return None
    ts = getattr(m, name)
    return datetime.datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, datetime.timezone.utc)


def job_info(m: coordinator_pb2.Job) -> JobInfo:
    kind = m.spec.WhichOneof("kind") or ""
    q = m.spec.count
    return JobInfo(
        id=m.id,
        state=_STATES.get(m.state, "unknown"),
        kind=kind,
        mode=_MODE_NAMES.get(q.mode or common_pb2.MODE_TOKEN, "") if kind == "count" else "",
        targets=list(q.targets) if kind == "count" else [],
        created_at=_time(m, "created_at"),
        finished_at=_time(m, "finished_at"),
        error=m.error,
        documents=m.documents,
        progress=progress(m.id, m.progress),
    )


def worker_info(m: coordinator_pb2.Worker) -> WorkerInfo:
    return WorkerInfo(m.name, m.address, m.cores, m.state, m.in_flight, m.chunks_done)
