"""Client: the tally coordinator's API for Python programs."""

from __future__ import annotations

import atexit
import dataclasses
import errno
import io
import ipaddress
import os
import stat
import threading
import time
from typing import IO, Callable, Iterator, List, Optional, Sequence, Tuple, Union

import grpc

from tally import _results
from tally._errors import Error, InvalidArgumentError, LocalClusterError, from_rpc_error
from tally._local import LocalCluster
from tally._results import CountResult, JobInfo, Progress, TopResult, WorkerInfo
from tally.v1 import common_pb2, coordinator_pb2, coordinator_pb2_grpc

DEFAULT_PORT = 7070

# MAX_RESULT_BYTES bounds one message from the coordinator: a full frequency
# table (top(n=0)) of a large corpus runs to tens of MB, far above gRPC's
# default 4 MiB. The Go client allows the same. Requests declare it
# (max_result_bytes): the coordinator refuses to send a client more than it
# says it accepts, and takes 4 MiB when it says nothing.
MAX_RESULT_BYTES = 1 << 30

# MAX_REQUEST_BYTES is the coordinator's limit on one client message (an
# upload message or a CountTexts request).
MAX_REQUEST_BYTES = 64 << 20

# UPLOAD_MESSAGE_BYTES is what one upload message carries: files stream
# through in pieces of this size, never whole.
UPLOAD_MESSAGE_BYTES = 1 << 20

# SMALL_TEXTS_BYTES: texts up to this size in all go in one unary CountTexts
# call; larger ones are streamed through RunJob like files.
SMALL_TEXTS_BYTES = 8 << 20

Text = Union[str, bytes]
FileLike = Union[str, "os.PathLike[str]", IO]


@dataclasses.dataclass
class TLS:
    """TLS says how to connect over TLS: ca verifies the coordinator (the
    system roots when None); cert and key are this client's certificate, for
    a coordinator that requires mutual TLS. Paths to PEM files."""

    ca: Optional[str] = None
    cert: Optional[str] = None
    key: Optional[str] = None
    server_name: Optional[str] = None  # the name to verify, when not the address's host


def _read(path: Optional[str]) -> Optional[bytes]:
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


def _credentials(tls: Union[None, bool, dict, TLS]) -> Tuple[Optional[grpc.ChannelCredentials], Optional[str]]:
    if tls is None or tls is False:
        return None, None
    if tls is True:
        tls = TLS()
    elif isinstance(tls, dict):
        tls = TLS(**tls)
    if (tls.cert is None) != (tls.key is None):
        raise ValueError("TLS cert and key go together: give both or neither")
    creds = grpc.ssl_channel_credentials(root_certificates=_read(tls.ca), private_key=_read(tls.key),
                                         certificate_chain=_read(tls.cert))
    return creds, tls.server_name


def _with_port(address: str) -> str:
    """_with_port adds the default port to an address without one."""
    if address.startswith("["):
        return address if "]:" in address else f"{address}:{DEFAULT_PORT}"
    if address.count(":") == 1:
        return address
    if ":" in address:  # a bare IPv6 address
        return f"[{address}]:{DEFAULT_PORT}"
    return f"{address}:{DEFAULT_PORT}"


def _is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _encode(text: Text, what: str) -> bytes:
    """_encode is a text's bytes: a str is encoded as the oracle decodes
    (UTF-8 with surrogateescape, so that bytes decoded that way round-trip)."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    if isinstance(text, str):
        try:
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as e:
            raise InvalidArgumentError(f"{what} cannot be encoded as UTF-8: {e}", grpc.StatusCode.INVALID_ARGUMENT) from None
    raise TypeError(f"{what} must be str or bytes, not {type(text).__name__}")


class _Document:
    """_Document is one upload: bytes in memory, a path, or an open file."""

    def __init__(self, name: str, size: int, open_: Callable[[], IO], close: bool):
        self.name, self.size, self.open, self.close = name, size, open_, close

    @classmethod
    def text(cls, name: str, text: Text) -> "_Document":
        if isinstance(text, str):
            # The size is for progress only: a str's length is its UTF-8
            # size when it is ASCII (isascii() costs nothing), else unknown.
            return cls(name, len(text) if text.isascii() else 0, lambda: _TextReader(text, name), True)
        data = _encode(text, name)
        return cls(name, len(data), lambda: io.BytesIO(data), True)

    @classmethod
    def file(cls, item: FileLike, index: int) -> "_Document":
        if isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            # Missing or unreadable files fail the call before anything is sent.
            st = os.stat(path)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, "is a directory (name its files)", path)
            if not stat.S_ISREG(st.st_mode):
                # Opening a named pipe can block for ever; pass it open instead.
                raise OSError(errno.EINVAL, "not a regular file (pass an open file object for a pipe or device)", path)
            with open(path, "rb"):
                pass
            return cls(path, st.st_size, lambda: open(path, "rb"), True)
        if not hasattr(item, "read"):
            raise TypeError(f"document {index} must be a path or a file object, not {type(item).__name__}")
        name = getattr(item, "name", None)
        name = name if isinstance(name, str) else f"<file {index}>"
        return cls(name, _remaining(item), lambda: item, False)


class _TextReader:
    """_TextReader reads a str as UTF-8 (surrogateescape) a piece at a time,
    so that a large text is never held twice, as str and as bytes."""

    def __init__(self, text: str, name: str):
        self.text, self.name, self.pos = text, name, 0
        self.ascii = text.isascii()

    def read(self, n: int) -> bytes:
        # At most n bytes: a character takes at most 4 in UTF-8.
        piece = self.text[self.pos : self.pos + (n if self.ascii else max(n // 4, 1))]
        self.pos += len(piece)
        return _encode(piece, f"text {self.name}")

    def close(self) -> None:
        self.text = ""


def _remaining(f: IO) -> int:
    """_remaining is the bytes left in an open file, 0 if unknown (progress only)."""
    try:
        return max(os.fstat(f.fileno()).st_size - f.tell(), 0)
    except (AttributeError, OSError, ValueError):
        return 0


class _Upload:
    """_Upload is RunJob's request stream. gRPC pulls it from a thread of its
    own; an error reading a document is kept for the caller and cancels the
    call, so that the coordinator never counts a partial upload."""

    def __init__(self, start: coordinator_pb2.JobStart, docs: List[_Document]):
        self.start, self.docs = start, docs
        self.error: Optional[BaseException] = None
        self.call = None
        self.started = threading.Event()

    def requests(self) -> Iterator[coordinator_pb2.RunJobRequest]:
        yield coordinator_pb2.RunJobRequest(start=self.start)
        for d in self.docs:
            try:
                f = d.open()
            except BaseException as e:
                self._fail(e)
                return
            try:
                yield coordinator_pb2.RunJobRequest(document=coordinator_pb2.DocumentHeader(name=d.name, size=d.size))
                while True:
                    try:
                        data = f.read(UPLOAD_MESSAGE_BYTES)
                        if isinstance(data, str):  # a file opened in text mode
                            data = _encode(data, d.name)
                    except BaseException as e:
                        self._fail(e)
                        return
                    if not data:
                        break
                    yield coordinator_pb2.RunJobRequest(data=data)
            finally:
                if d.close:
                    f.close()

    def _fail(self, e: BaseException) -> None:
        self.error = e
        self.started.wait(10)
        if self.call is not None:
            self.call.cancel()


class Client:
    """Client talks to a tally coordinator.

    Client("host:port") connects to a running coordinator (port 7070 if none
    is given). Client() connects to $TALLY_COORDINATOR, or, when that is not
    set, starts the tally binary as a local coordinator with local_workers
    workers on 127.0.0.1 for the life of the client (the binary is binary=,
    else $TALLY_BINARY, else tally on PATH). close() ends it; so do `with`,
    garbage collection and the interpreter's exit.

    token is the bearer token the coordinator requires ($TALLY_TOKEN when the
    address comes from $TALLY_COORDINATOR). tls is None (plaintext), True
    (TLS verified by the system roots), a TLS or a dict of its fields. A
    token is sent in clear only to a loopback address, unless insecure=True.

    Every failure the coordinator or the connection reports raises a
    tally.Error (NotFoundError, InvalidArgumentError, CancelledError, ...)
    with the gRPC code and message. A Client is safe to use from several
    threads.
    """

    def __init__(self, address: Optional[str] = None, token: Optional[str] = None,
                 tls: Union[None, bool, dict, TLS] = None, *, insecure: bool = False,
                 binary: Optional[str] = None, local_workers: int = 1, local_threads: Optional[int] = None,
                 timeout: Optional[float] = 60.0):
        self._local: Optional[LocalCluster] = None
        self._channel = None
        self.timeout = timeout  # seconds for the short calls (jobs, cancel, ...); jobs run unbounded
        if address is None and os.environ.get("TALLY_COORDINATOR"):
            address = os.environ["TALLY_COORDINATOR"]
            if token is None:
                token = os.environ.get("TALLY_TOKEN") or None
        if address is None:
            self._local = LocalCluster(binary, workers=local_workers, threads=local_threads)
            address = self._local.address
        self.address = _with_port(address)
        creds, server_name = _credentials(tls)
        if token and creds is None and not insecure and not _is_loopback(self.address):
            raise ValueError(f"refusing to send the token in clear to {self.address}, which is not a loopback "
                             "address: connect with tls= (a CA to verify it) or allow it with insecure=True")
        self._metadata = (("authorization", "Bearer " + token),) if token else None
        self._plaintext = creds is None
        options = [
            ("grpc.max_receive_message_length", MAX_RESULT_BYTES),
            ("grpc.max_send_message_length", MAX_REQUEST_BYTES),
            # Detect a coordinator that stopped answering in about 20 s, as
            # the Go client does (coordinators allow a ping every 5 s).
            ("grpc.keepalive_time_ms", 10_000),
            ("grpc.keepalive_timeout_ms", 10_000),
        ]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        try:
            if creds is None:
                self._channel = grpc.insecure_channel(self.address, options=options)
            else:
                self._channel = grpc.secure_channel(self.address, creds, options=options)
            self._stub = coordinator_pb2_grpc.CoordinatorServiceStub(self._channel)
            atexit.register(self.close)
            if self._local is not None:
                self._wait_for_workers(self._local.workers, 30.0)
        except BaseException:
            self.close()
            raise

    # -- lifecycle

    def close(self) -> None:
        """close closes the connection and stops a local cluster; safe to call twice."""
        atexit.unregister(self.close)
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()
        local, self._local = self._local, None
        if local is not None:
            local.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def local_cluster(self) -> Optional[LocalCluster]:
        """local_cluster is the cluster this client started, or None."""
        return self._local

    def _wait_for_workers(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            ready = [w for w in self.workers() if w.state == "ready"]
            if len(ready) >= n:
                return
            if time.monotonic() > deadline:
                raise LocalClusterError(f"the local coordinator saw {len(ready)} of {n} workers ready after {timeout:.0f} s")
            time.sleep(0.02)

    def _unary(self, method, request):
        if self._channel is None:
            raise Error("the client is closed")
        try:
            return method(request, timeout=self.timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise self._error(e) from None

    def _error(self, e: grpc.RpcError) -> Error:
        """_error is e as a tally.Error, with a hint where gRPC's own words mislead."""
        err = from_rpc_error(e)
        if self._plaintext and err.code == grpc.StatusCode.UNAVAILABLE and "Socket closed" in err.message:
            # What a TLS server does to a plaintext client.
            err.message += f" (if the coordinator at {self.address} serves TLS, connect with tls=tally.TLS(ca=...))"
            err.args = (err.message,)
        return err

    # -- counting

    def count(self, texts: Union[Text, Sequence[Text]], targets: Union[str, Sequence[str]],
              mode: str = "token", ignore_case: bool = False, stats: bool = False) -> CountResult:
        """count counts each target in each text (str or bytes; one text alone
        is a list of one). Documents are named by their index: "0", "1", ...

        mode is "token" (text.split().count(t)), "word" (t with no word
        character on either side, like grep -w) or "substring"
        (text.count(t)); ignore_case matches as re.IGNORECASE does. stats
        also measures each text's lines and tokens.
        """
        texts = [texts] if isinstance(texts, (str, bytes)) else list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, (str, bytes, bytearray, memoryview)):
                raise TypeError(f"text {i} must be str or bytes, not {type(t).__name__}")
        targets = self._targets(targets)
        spec_mode = self._mode(mode)
        if sum(len(t) for t in texts) <= SMALL_TEXTS_BYTES:  # characters: at most the bytes
            data = [_encode(t, f"text {i}") for i, t in enumerate(texts)]
            try:
                strings = [d.decode("utf-8") for d in data]
            except UnicodeDecodeError:
                strings = None  # CountTexts carries UTF-8 strings only
            if strings is not None:
                q = common_pb2.CountQuery(mode=spec_mode, targets=targets, ignore_case=ignore_case)
                resp = self._unary(self._stub.CountTexts,
                                   coordinator_pb2.CountTextsRequest(texts=strings, query=q, stats=stats,
                                                                     max_result_bytes=MAX_RESULT_BYTES))
                return _results.count_result(targets, "", resp)
        docs = [_Document.text(str(i), t) for i, t in enumerate(texts)]
        return self._count_job(docs, targets, spec_mode, ignore_case, stats, None, 0)

    def count_files(self, files: Union[FileLike, Sequence[FileLike]], targets: Union[str, Sequence[str]],
                    mode: str = "token", ignore_case: bool = False, stats: bool = False,
                    progress: Optional[Callable[[Progress], None]] = None, chunk_size: int = 0) -> CountResult:
        """count_files counts targets in files of any size, streamed to the
        coordinator a megabyte at a time: paths (str or os.PathLike) or open
        file objects (binary, or text mode, which is encoded as UTF-8).

        A path that is missing or unreadable raises its OSError before the
        job starts. progress, if given, is called with a Progress every
        quarter second from this thread; an exception it raises cancels the
        job. Ctrl-C cancels the job too. chunk_size (bytes) overrides the
        coordinator's.
        """
        targets = self._targets(targets)
        spec_mode = self._mode(mode)
        docs = self._file_documents(files)
        return self._count_job(docs, targets, spec_mode, ignore_case, stats, progress, chunk_size)

    def top(self, texts_or_files: Union[Text, FileLike, Sequence[Union[Text, FileLike]]], n: int = 10,
            lower: bool = False, words_only: bool = False, stats: bool = False,
            progress: Optional[Callable[[Progress], None]] = None, chunk_size: int = 0) -> TopResult:
        """top is the frequency table of the documents' tokens: the n most
        frequent (n=0: all), count descending then the token's bytes.

        A str or bytes is a text (named by its index); an os.PathLike (such
        as pathlib.Path) or an open file is a file, streamed. Tokens are
        text.split()'s, or with words_only re.findall(r"\\w+", text)'s;
        lower lower-cases every character first.
        """
        if not isinstance(n, int) or n < 0 or n >= 1 << 32:
            raise ValueError(f"n must be an int from 0 (all) to 2**32-1, got {n!r}")
        items = [texts_or_files] if isinstance(texts_or_files, (str, bytes, os.PathLike)) or hasattr(texts_or_files, "read") \
            else list(texts_or_files)
        docs = []
        for i, item in enumerate(items):
            if isinstance(item, (str, bytes, bytearray, memoryview)):
                docs.append(_Document.text(str(i), item))
            else:
                docs.append(_Document.file(item, i))
        spec = common_pb2.JobSpec(top=common_pb2.TopQuery(limit=n, words_only=words_only, lower=lower), stats=stats)
        job_id, result = self._run(spec, docs, progress, chunk_size)
        return _results.top_result(job_id, result)

    def parallel_word_count(self, text_bodies: Sequence[Text], words: Sequence[str]) -> List[int]:
        """parallel_word_count is [t.split().count(w) for t, w in zip(text_bodies, words)],
        counted in one job: each text's count of its own word.

        The two lists must have the same length. A word that no token can
        equal (empty, or containing whitespace) counts 0, as in Python.
        """
        text_bodies, words = list(text_bodies), list(words)
        if len(text_bodies) != len(words):
            raise ValueError(f"parallel_word_count needs one word per text: got {len(text_bodies)} texts and {len(words)} words")
        for i, w in enumerate(words):
            if not isinstance(w, str):
                raise TypeError(f"word {i} must be a str, not {type(w).__name__}")
        # A token is never empty and never holds whitespace: such words count
        # 0 without being sent, since the coordinator refuses them as targets.
        targets = list(dict.fromkeys(w for w in words if w.split() == [w]))
        if not targets:
            return [0] * len(words)
        res = self.count(text_bodies, targets, mode="token")
        column = {t: i for i, t in enumerate(targets)}
        return [res.documents[i].counts[column[w]] if w in column else 0 for i, w in enumerate(words)]

    # -- jobs and workers

    def jobs(self) -> List[JobInfo]:
        """jobs are the jobs the coordinator remembers, newest first."""
        out, token = [], ""
        for _ in range(1000):  # the coordinator keeps a bounded history
            resp = self._unary(self._stub.ListJobs, coordinator_pb2.ListJobsRequest(page_size=200, page_token=token))
            out.extend(_results.job_info(j) for j in resp.jobs)
            token = resp.next_page_token
            if not token:
                break
        return out

    def job(self, job_id: str) -> JobInfo:
        """job is one job, running or finished (NotFoundError if forgotten)."""
        return _results.job_info(self._unary(self._stub.GetJob, coordinator_pb2.GetJobRequest(job_id=job_id)).job)

    def cancel(self, job_id: str) -> JobInfo:
        """cancel stops a running job (its caller gets CancelledError) and
        returns it; a finished job keeps its final state."""
        return _results.job_info(self._unary(self._stub.CancelJob, coordinator_pb2.CancelJobRequest(job_id=job_id)).job)

    def workers(self) -> List[WorkerInfo]:
        """workers are the live workers the coordinator knows."""
        resp = self._unary(self._stub.ListWorkers, coordinator_pb2.ListWorkersRequest())
        return [_results.worker_info(w) for w in resp.workers]

    # -- helpers

    @staticmethod
    def _targets(targets: Union[str, Sequence[str]]) -> List[str]:
        targets = [targets] if isinstance(targets, str) else list(targets)
        for i, t in enumerate(targets):
            if not isinstance(t, str):
                raise TypeError(f"target {i} must be a str, not {type(t).__name__}")
            try:
                t.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidArgumentError(f"target {t!r} is not valid UTF-8", grpc.StatusCode.INVALID_ARGUMENT) from None
        return targets

    @staticmethod
    def _mode(mode: str) -> int:
        try:
            return _results.mode_to_proto(mode)
        except ValueError as e:
            raise InvalidArgumentError(str(e), grpc.StatusCode.INVALID_ARGUMENT) from None

    @staticmethod
    def _file_documents(files) -> List[_Document]:
        if isinstance(files, (str, os.PathLike)) or hasattr(files, "read"):
            files = [files]
        return [_Document.file(f, i) for i, f in enumerate(files)]

    def _count_job(self, docs, targets, mode, ignore_case, stats, progress, chunk_size) -> CountResult:
        q = common_pb2.CountQuery(mode=mode, targets=targets, ignore_case=ignore_case)
        job_id, result = self._run(common_pb2.JobSpec(count=q, stats=stats), docs, progress, chunk_size)
        return _results.count_result(targets, job_id, result)

    def _run(self, spec, docs: List[_Document], progress, chunk_size: int):
        """_run runs one RunJob call: the upload on gRPC's thread, events here."""
        if self._channel is None:
            raise Error("the client is closed")
        if chunk_size < 0:
            raise ValueError(f"chunk_size must be >= 0, got {chunk_size}")
        start = coordinator_pb2.JobStart(spec=spec, chunk_size=chunk_size, packed_top=True,
                                         max_result_bytes=MAX_RESULT_BYTES)
        upload = _Upload(start, docs)
        call = self._stub.RunJob(upload.requests(), metadata=self._metadata)
        upload.call = call
        upload.started.set()
        job_id, result = "", None
        try:
            # Read to the end of the call, after the result too: the call
            # then ends with OK instead of being cancelled by this side.
            for event in call:
                kind = event.WhichOneof("event")
                if kind == "accepted":
                    job_id = event.accepted.job_id
                elif kind == "progress" and progress is not None:
                    progress(_results.progress(job_id, event.progress))
                elif kind == "result":
                    result = event.result
        except grpc.RpcError as e:
            if upload.error is not None:
                raise upload.error
            raise self._error(e) from None
        except BaseException:
            call.cancel()  # a failing progress callback, Ctrl-C: the job stops too
            raise
        if result is None:
            raise Error(f"the coordinator ended job {job_id or '(no id)'} without a result", grpc.StatusCode.UNKNOWN)
        return job_id, result
