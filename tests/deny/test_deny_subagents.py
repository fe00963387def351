"""A sub-agent never exceeds the session that started it: its mode is capped at
the parent's, its allows stand only where the parent would allow, and deny rules
of both hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore import SessionCreateInfo
from agentcore.events import PermissionRequested
from agentcore.permissions import PermissionMode
from deny_support import RoutedProvider, build_core, first_turn, marker, profile_policy, rules, text_reply, tool_reply, tool_results


def _scripts(child_calls: list[tuple[str, str, dict]]) -> RoutedProvider:
    def main(request):
        if first_turn(request):
            return tool_reply(("s1", "spawn_agent", {"profile": "child", "task": "do it"}))
        return text_reply("parent done")

    def child(request):
        return tool_reply(*child_calls) if first_turn(request) else text_reply("child done")

    return RoutedProvider({marker("main"): main, marker("child"): child})


async def _run(tmp_path: Path, work: Path, provider: RoutedProvider, *, parent: dict, child: dict) -> tuple[list[str], list]:
    policies = {
        "main": profile_policy("main", spawn=("child",), **parent),
        "child": profile_policy("child", **child),
    }
    core = build_core(provider, tmp_path / "state", policies)
    asked: list = []
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        session.events.add_observer(lambda event: asked.append(event) if isinstance(event, PermissionRequested) else None)
        await session.run_turn("delegate")
    child_requests = [r for r in provider.requests if marker("child") in r.system]
    return tool_results(child_requests[-1]), asked


@pytest.mark.parametrize(
    "child",
    [
        pytest.param({"mode": PermissionMode.YOLO}, id="child-yolo"),
        pytest.param({"rules": rules(allow=["bash"])}, id="child-allows-bash"),
        pytest.param({"mode": PermissionMode.YOLO, "rules": rules(allow=["bash(touch*)"])}, id="child-yolo-and-allow"),
    ],
)
async def test_a_child_cannot_run_what_its_ask_parent_would_ask_about(tmp_path, work, child) -> None:
    target = work / "marker"
    provider = _scripts([("b1", "bash", {"command": f"touch {target}", "description": "Create a marker"})])
    results, asked = await _run(tmp_path, work, provider, parent={"mode": PermissionMode.ASK}, child=child)
    assert not target.exists()
    assert "cannot ask the user" in results[0]
    assert not asked  # nobody was asked on the child's behalf either


async def test_a_child_runs_what_the_parent_allows_without_asking(tmp_path, work) -> None:
    target = work / "marker"
    provider = _scripts([("b1", "bash", {"command": f"touch {target}"})])
    await _run(tmp_path, work, provider, parent={"rules": rules(allow=["bash(touch*)"])}, child={})
    assert target.exists()  # the ceiling is the parent's allow, not "never"


async def test_a_read_only_parent_keeps_a_yolo_child_from_writing(tmp_path, work) -> None:
    provider = _scripts([("w1", "write_file", {"path": "out.txt", "content": "x"})])
    results, _ = await _run(
        tmp_path, work, provider, parent={"mode": PermissionMode.READ_ONLY}, child={"mode": PermissionMode.YOLO}
    )
    assert not (work / "out.txt").exists()
    assert "read-only" in results[0]


async def test_deny_rules_of_parent_and_child_both_hold(tmp_path, work, secret) -> None:
    provider = _scripts([("r1", "read_file", {"path": ".env"}), ("r2", "read_file", {"path": "README.md"}), ("r3", "grep", {"pattern": "API_TOKEN"})])
    results, _ = await _run(
        tmp_path,
        work,
        provider,
        parent={"mode": PermissionMode.YOLO, "rules": rules(deny=["read_file(**/.env)"])},
        child={"mode": PermissionMode.YOLO, "rules": rules(deny=["read_file(README.md)"])},
    )
    env, readme, grep = results
    assert "denied" in env and secret not in env  # the parent's deny
    assert "denied" in readme  # the child's own deny
    # Both sets of deny rules reach the child's grep: the two .env files and README.md.
    assert secret not in grep and "README.md" not in grep and "3 files were skipped" in grep
