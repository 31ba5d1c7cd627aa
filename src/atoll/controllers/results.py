"""What a reconcile tells the runtime: a ``Result``, or an error whose *type* decides the retry.

- return ``Result()``: done; the key's back-off is reset.
- return ``Result(requeue_after=30)``: look again in 30 s (polling something outside the API).
- return ``Result(requeue=True)``: look again after the key's back-off.
- raise ``TemporaryError("…", delay=5)``: expected and transient (a dependency is not ready);
  logged as a warning, retried after ``delay``.
- raise ``PermanentError("…")``: retrying cannot help (the object is invalid); logged as an
  error, not retried until the object changes and a handler enqueues it again.
- raise anything else: a bug or an unexpected failure; retried with the key's exponential
  back-off, the traceback logged once per streak of failures.

The split follows kopf (``TemporaryError``/``PermanentError``) and controller-runtime
(``Result{Requeue, RequeueAfter}``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PermanentError", "ReconcileError", "Result", "TemporaryError"]


@dataclass(frozen=True, slots=True)
class Result:
    requeue: bool = False
    requeue_after: float | None = None

    def __post_init__(self) -> None:
        if self.requeue_after is not None and self.requeue_after < 0:
            raise ValueError(f"requeue_after must not be negative, got {self.requeue_after!r}")


class ReconcileError(Exception):
    """Base of the errors that tell the runtime how to retry."""


class TemporaryError(ReconcileError):
    """Try again after ``delay`` seconds; not a bug, so no traceback."""

    def __init__(self, message: str = "", *, delay: float = 60.0) -> None:
        if delay < 0:
            raise ValueError(f"delay must not be negative, got {delay!r}")
        super().__init__(message)
        self.delay = delay


class PermanentError(ReconcileError):
    """Retrying cannot help; log it and leave the key until something enqueues it again."""
