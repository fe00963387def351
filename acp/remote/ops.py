"""``agent serve``'s operations endpoints: ``/ready`` (readiness: the session store
and, when configured, Temporal answer) and ``/metrics`` (Prometheus text).

Invariants:

* Both need the server's token like ``/acp`` (``/health``, liveness, stays
  public); neither ever names a session, a path or a credential: readiness says
  which dependency failed and the error's type and first line, metrics are the
  counts and sums of :mod:`agentcore.metrics`.
* Every probe is bounded (:data:`PROBE_TIMEOUT_S`) and runs off the event loop
  (a worker thread); a probe that does not answer in time is "not ready".
* Temporal is probed on its own asyncio loop in a thread (the SDK is asyncio);
  its address is ``AGENTCORE_TEMPORAL`` of the server's environment, unset:
  not checked.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import trio

from agentcore.metrics import Metrics, process_metrics

PROBE_TIMEOUT_S = 3.0  # one dependency check
TEMPORAL_ENV = "AGENTCORE_TEMPORAL"
JOB_WORKFLOW = "AgentJob"  # agentcore.jobs.spec.WORKFLOW_NAME (not imported: the temporal extra is optional)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class ServeOps:
    """Readiness and metrics of one server, over its hub."""

    def __init__(self, hub: Any, *, env: Mapping[str, str] | None = None, metrics: Metrics | None = None) -> None:
        env = os.environ if env is None else env
        self.hub = hub
        self.temporal = env.get(TEMPORAL_ENV) or None
        self.metrics = metrics if metrics is not None else process_metrics()

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        checks = {"store": await self._bounded(self._store), "temporal": await self._temporal_check()}
        ready = all(c["ok"] for c in checks.values())
        return ready, {"status": "ready" if ready else "not ready", "checks": checks}

    async def _bounded(self, probe: Any) -> dict[str, Any]:
        with trio.move_on_after(PROBE_TIMEOUT_S):
            try:
                return await trio.to_thread.run_sync(probe, abandon_on_cancel=True)
            except Exception as exc:  # noqa: BLE001 - any failure of the dependency is "not ready", said in one line
                return {"ok": False, "error": _first_line(exc)}
        return {"ok": False, "error": f"no answer within {PROBE_TIMEOUT_S:g}s"}

    def _store(self) -> dict[str, Any]:
        loader = self.hub.setup().core.loader
        if loader is None:
            return {"ok": True, "kind": "memory"}
        kind = type(loader).__name__
        ping = getattr(loader, "ping", None)
        if callable(ping):
            ping()
        elif (directory := getattr(loader, "sessions_dir", None)) is not None:
            os.makedirs(directory, exist_ok=True)
            if not os.access(directory, os.W_OK | os.X_OK):
                return {"ok": False, "kind": kind, "error": "the sessions directory is not writable"}
        else:
            loader.list_sessions()
        return {"ok": True, "kind": kind}

    async def _temporal_check(self) -> dict[str, Any]:
        if self.temporal is None:
            return {"ok": True, "configured": False}
        address = self.temporal

        def probe() -> dict[str, Any]:
            async def check() -> bool:
                from temporalio.client import Client

                client = await Client.connect(address)
                return bool(await client.service_client.check_health())

            return {"ok": asyncio.run(check()), "configured": True}

        result = await self._bounded(probe)
        result.setdefault("configured", True)
        return result

    async def render_metrics(self) -> str:
        hub = self.hub
        live = list(hub.sessions.values())
        extra: list[tuple[str, str, str, float]] = [
            ("serve_sessions_live", "gauge", "Sessions live in this server.", len(live)),
            ("serve_connections", "gauge", "Client connections attached now.", hub.connections),
            ("serve_turns_running", "gauge", "Turns running in this server's sessions.",
             sum(1 for s in live if getattr(s.session, "turn_running", False))),
        ]  # fmt: skip
        if self.temporal is not None:
            depth = await self._bounded(self._jobs_open)
            if depth.get("ok"):
                extra.append(("jobs_open", "gauge", "Durable jobs submitted and not finished (the job queue's depth).",
                              depth["count"]))  # fmt: skip
        return self.metrics.render(extra)

    def _jobs_open(self) -> dict[str, Any]:
        address = self.temporal

        async def count() -> int:
            from temporalio.client import Client

            client = await Client.connect(address or "")
            found = await client.count_workflows(f'WorkflowType = "{JOB_WORKFLOW}" AND ExecutionStatus = "Running"')
            return found.count

        return {"ok": True, "count": asyncio.run(count())}
