"""ConfigMap creates per second over 16 connections, beside SQLite inserts of the same JSON.

Target (issue): at least 1,000 creates/s. Baselines, same run, same documents (the stored
ConfigMaps as the server returned them): the group-commit ceiling of the raw storage and a
naive one-commit-per-insert loop.
"""

from __future__ import annotations

import orjson

from .client import CONNECTIONS, CpuMeter, ensure_namespace, post_json, run_workers, warm_up
from .context import Context
from .direct_sqlite import insert_each_committed, insert_group_commit
from .objects import config_map
from .results import Row

__all__ = ["run"]

NAMESPACE = "bench-creates"
TARGET = 1_000.0


async def run(ctx: Context) -> list[Row]:
    n = ctx.sizes.creates
    path = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
    await ensure_namespace(ctx.session, NAMESPACE)

    async def create(body: bytes) -> bytes:
        return await post_json(ctx.session, path, body)

    await warm_up(ctx.session, NAMESPACE)
    names = [f"cm-{i:06d}" for i in range(n)]
    bodies = [orjson.dumps(config_map(name, index=i)) for i, name in enumerate(names)]
    with CpuMeter(ctx.server) as cpu:
        stored = await run_workers(bodies, create)
    rate = n / cpu.wall

    docs = [
        (f"/configmaps/{NAMESPACE}/{name}", raw) for name, raw in zip(names, stored, strict=True)
    ]
    group_rate = n / await insert_group_commit(ctx.scratch / "creates-group.db", docs)
    each_rate = n / insert_each_committed(ctx.scratch / "creates-each.db", docs)
    size = sum(len(raw) for raw in stored) / n

    print(
        f"creates: {n:,} ConfigMaps (~{size:,.0f} B stored JSON each) over {CONNECTIONS} "
        f"connections in {cpu.wall:.2f} s → {rate:,.0f} creates/s "
        f"(target ≥ {TARGET:,.0f}/s: {'met' if rate >= TARGET else 'missed'})"
    )
    print(f"  {cpu.describe()}")
    print(
        f"  SQLite directly, same documents: group commit {group_rate:,.0f}/s "
        f"(ratio {rate / group_rate:.3f}), one commit per insert {each_rate:,.0f}/s "
        f"(ratio {rate / each_rate:.3f})"
    )
    return [
        Row(
            benchmark="ConfigMap creates (16 conns)",
            figure=f"{rate:,.0f}/s",
            target=f"≥ {TARGET:,.0f}/s",
            met=rate >= TARGET,
            baseline=(
                f"SQLite group commit {group_rate:,.0f}/s · per-insert commit {each_rate:,.0f}/s"
            ),
            ratio=f"{rate / group_rate:.3f} · {rate / each_rate:.3f}",
        )
    ]
