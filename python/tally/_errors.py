"""Exceptions: every failure the coordinator or the connection reports is a tally.Error."""

from __future__ import annotations

from typing import Optional

import grpc


class Error(Exception):
    """Error is a failure reported by the coordinator or the connection to it.

    code is the gRPC status code (a grpc.StatusCode), or None for a failure
    on this side (the tally binary of a local cluster would not start);
    message is the coordinator's explanation.
    """

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        return f"{self.code.name}: {self.message}"


class NotFoundError(Error):
    """NotFoundError: no such job, server path or object."""


class InvalidArgumentError(Error, ValueError):
    """InvalidArgumentError: a bad target, query or input (also a ValueError)."""


class UnavailableError(Error, ConnectionError):
    """UnavailableError: the coordinator cannot be reached, or went away."""


class CancelledError(Error):
    """CancelledError: the job or the call was cancelled."""


class ResourceExhaustedError(Error):
    """ResourceExhaustedError: a limit (jobs at once, targets, memory, message size)."""


class PermissionDeniedError(Error):
    """PermissionDeniedError: no or a wrong token or certificate."""


class DeadlineExceededError(Error):
    """DeadlineExceededError: the call's deadline, or an upload that went idle."""


class LocalClusterError(Error):
    """LocalClusterError: the local coordinator or worker of Client() would not start."""


_BY_CODE = {
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgumentError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.CANCELLED: CancelledError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.UNAUTHENTICATED: PermissionDeniedError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
}


def from_rpc_error(err: grpc.RpcError) -> Error:
    """from_rpc_error turns a gRPC error into the Error subclass of its code."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = err.details() if hasattr(err, "details") else str(err)
    return _BY_CODE.get(code, Error)(details or str(code), code)
