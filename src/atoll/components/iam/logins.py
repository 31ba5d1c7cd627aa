"""Login records and the failed-login limit, kept in the host cluster (no server state).

Every password login, good or bad, becomes a LoginRecord labelled with its user and source
address, as in KubeSphere. A user, or a source address, with 10 failed logins in the last
10 minutes is refused with 429 and ``Retry-After`` (the seconds until the oldest of those
failures leaves the window) before any password is checked; so a guesser learns nothing
and costs no argon2 time. Counting reads an informer on LoginRecords, so every replica
counts the same failures. Records are removed a week after they were made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from atoll.controllers.leadership import parse_time
from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import ApiError, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer, InformerFactory

from .crds import GROUP, VERSION
from .labels import USER_LABEL, label_value

__all__ = ["LOGIN_RECORDS", "MAX_FAILURES", "WINDOW", "LoginLimiter", "LoginRecordController"]

logger = logging.getLogger(__name__)

LOGIN_RECORDS = ResourceType(GROUP, VERSION, "loginrecords", "LoginRecord", False)
MAX_FAILURES = 10
WINDOW = timedelta(minutes=10)
SOURCE_LABEL = "iam.atoll.io/source"
SUCCESS_LABEL = "iam.atoll.io/success"


def _index(label: str) -> Callable[[Object], list[str]]:
    def failures(record: Object) -> list[str]:
        labels = (record.get("metadata") or {}).get("labels") or {}
        if labels.get(SUCCESS_LABEL) != "false" or label not in labels:
            return []
        return [str(labels[label])]

    return failures


def _created(record: Object) -> datetime:
    stamp = parse_time((record.get("metadata") or {}).get("creationTimestamp"))
    return stamp or datetime.fromtimestamp(0, UTC)


class LoginLimiter:
    def __init__(self, factory: InformerFactory, client: KubeClient) -> None:
        self._client = client
        self._pending: set[asyncio.Task[None]] = set()
        self._records: Informer = factory.informer(LOGIN_RECORDS)
        self._records.add_indexer(USER_LABEL, _index(USER_LABEL))
        self._records.add_indexer(SOURCE_LABEL, _index(SOURCE_LABEL))

    @property
    def synced(self) -> bool:
        return self._records.has_synced

    def retry_after(self, username: str, source: str) -> int | None:
        """Seconds to wait when the user or the source is over the limit; else None."""
        now = datetime.now(UTC)
        waits = []
        for index, value in ((USER_LABEL, username), (SOURCE_LABEL, source)):
            recent = sorted(
                t
                for t in map(_created, self._records.by_index(index, label_value(value)))
                if now - t < WINDOW
            )
            if len(recent) >= MAX_FAILURES:
                oldest_counted = recent[-MAX_FAILURES]
                waits.append(max(1, int((oldest_counted + WINDOW - now).total_seconds()) + 1))
        return max(waits) if waits else None

    async def record(
        self,
        username: str,
        source: str,
        *,
        success: bool,
        user_agent: str,
        reason: str = "",
        provider: str = "password",
    ) -> None:
        user = label_value(username)
        record = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "LoginRecord",
            "metadata": {
                "generateName": f"{user[:40]}-",
                "labels": {
                    USER_LABEL: user,
                    SOURCE_LABEL: label_value(source or "unknown"),
                    SUCCESS_LABEL: "true" if success else "false",
                },
            },
            "spec": {
                "type": "Token",
                "provider": provider,
                "sourceIP": source,
                "userAgent": user_agent[:256],
                "success": success,
                "reason": reason,
            },
        }
        # Written in the background: the login's answer does not wait for it (the limit
        # counts it once the informer sees it, moments later).
        task = asyncio.create_task(self._write(record), name="login record")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, record: Object) -> None:
        try:
            await self._client.create(LOGIN_RECORDS, record)
        except (ApiError, OSError) as error:  # the login's answer stands; best effort
            logger.warning("a login record could not be written: %s", error)


RETENTION = timedelta(days=7)


class LoginRecordController:
    """Removes login records a week after they were made (KubeSphere keeps its own for a
    bounded time too), so the limit's informer and the cluster stay small."""

    name = "iam-login-records"

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._records: Informer = ctx.informers.informer(LOGIN_RECORDS)
        self._records.add_handler(on_add=ctx.enqueue)

    async def reconcile(self, key: str) -> Result:
        record = self._records.get(key)
        if record is None:
            return Result()
        age = self._ctx.clock.now() - _created(record)
        if age < RETENTION:
            return Result(requeue_after=(RETENTION - age).total_seconds())
        with contextlib.suppress(NotFound):
            await self._ctx.client.delete(LOGIN_RECORDS, key)
        return Result()
