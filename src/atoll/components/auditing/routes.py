"""``GET /kapis/auditing.atoll.io/v1alpha1/events``: search the audit trail.

Newest first, filtered and paged: ``{"items": [event, …], "totalItems": N}``, each event as
``AuditEvent.to_json`` writes it. Parameters that cannot be understood (a time, a code) are a
400 problem; out-of-range paging is FastAPI's 422 problem. The search reads files, so it runs
off the event loop. Who may call it is the request pipeline's business (verb ``list`` on
``events`` in the ``auditing.atoll.io`` group).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from atoll.server.auditing import AuditEvent
from atoll.server.problems import problem

from .searching import MAX_LIMIT, AuditQuery, InvalidQuery, search

__all__ = ["PREFIX", "auditing_router"]

PREFIX = "/kapis/auditing.atoll.io/v1alpha1"


class AuditEventList(BaseModel):
    items: list[AuditEvent]  # documents the answer's shape
    totalItems: int


def auditing_router(directory: Callable[[], Path]) -> APIRouter:
    """The routes; ``directory`` (the trail's) is read per request and raises until known."""
    router = APIRouter(prefix=PREFIX, tags=["auditing"])

    @router.get(
        "/events",
        summary="Search audit events, newest first",
        response_model=AuditEventList,
        responses={400: {"description": "A parameter cannot be understood (problem+json)"}},
    )
    async def events(
        user: Annotated[str | None, Query(description="User name, exact.")] = None,
        verb: Annotated[
            str | None, Query(description="Verbs, comma-separated (create,delete).")
        ] = None,
        resource: Annotated[str | None, Query(description="Resource (plural), exact.")] = None,
        namespace: Annotated[str | None, Query(description="Namespace, exact.")] = None,
        workspace: Annotated[str | None, Query(description="Workspace, exact.")] = None,
        cluster: Annotated[str | None, Query(description="Cluster, exact.")] = None,
        name: Annotated[str | None, Query(description="Object name, exact.")] = None,
        code: Annotated[
            str | None,
            Query(description="HTTP status answered: 403, a class like 4xx, or a list of them."),
        ] = None,
        start: Annotated[
            str | None,
            Query(
                description="Earliest time, inclusive: RFC 3339 with an offset, or unix seconds."
            ),
        ] = None,
        end: Annotated[
            str | None,
            Query(description="Latest time, inclusive: RFC 3339 with an offset, or unix seconds."),
        ] = None,
        page: Annotated[int, Query(ge=1, description="Page number, from 1.")] = 1,
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description=f"Events per page, at most {MAX_LIMIT}.")
        ] = 50,
    ) -> Response:
        where = directory()
        try:
            query = AuditQuery.parse(
                user=user,
                verb=verb,
                resource=resource,
                namespace=namespace,
                workspace=workspace,
                cluster=cluster,
                name=name,
                code=code,
                start=start,
                end=end,
            )
        except InvalidQuery as error:
            return problem(400, str(error))
        found = await asyncio.to_thread(search, where, query, page=page, limit=limit)
        return Response(orjson.dumps(found), media_type="application/json")

    return router
