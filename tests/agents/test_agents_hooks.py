"""Hooks as real processes: small Python scripts that record their stdin."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from agentcore import SessionCreateInfo
from agentcore.events import Notice, PermissionRequested
from agentcore.frontend import Frontend
from agentcore.messages import StopReason
from agentcore.permissions import PermissionMode, PermissionOption
from agentcore.config.settings import HookConfig
from agentcore.tools.base import FunctionTool, Safety, ToolKind
from agents_loop import WAIT_S, Call, EventLog, open_llm, policy, text, tools
from fakes.llm_server import Reply

HOOK_SCRIPT = r'''
import argparse, json, os, sys, time

p = argparse.ArgumentParser()
p.add_argument("--record")
p.add_argument("--stdout", default="")
p.add_argument("--stdout-unless-active", default="")
p.add_argument("--stderr", default="")
p.add_argument("--exit", type=int, default=0)
p.add_argument("--sleep", type=float, default=0)
p.add_argument("--pidfile")
a = p.parse_args()
payload = json.loads(sys.stdin.read())
if a.record:
    with open(a.record, "a") as f:
        f.write(json.dumps(payload) + "\n")
if a.pidfile:
    with open(a.pidfile, "w") as f:
        f.write(str(os.getpid()))
if a.sleep:
    time.sleep(a.sleep)
out = a.stdout
if a.stdout_unless_active and not payload.get("stop_hook_active"):
    out = a.stdout_unless_active
sys.stdout.write(out)
sys.stderr.write(a.stderr)
sys.exit(a.exit)
'''


class Hooks:
    """Makes hook configs running HOOK_SCRIPT and reads what they recorded."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp / "hooks"
        self.dir.mkdir()
        self.script = self.dir / "hook.py"
        self.script.write_text(HOOK_SCRIPT)

    def record_path(self, name: str) -> Path:
        return self.dir / f"{name}.jsonl"

    def make(self, event: str, *, matcher: str = "*", timeout_s: float = 10.0, name: str | None = None,
             answer: dict[str, Any] | str | None = None, **options: Any) -> HookConfig:
        args = [sys.executable, str(self.script), "--record", str(self.record_path(name or event))]
        if answer is not None:
            args += ["--stdout", answer if isinstance(answer, str) else json.dumps(answer)]
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", value if isinstance(value, str) else json.dumps(value)]
        return HookConfig(event=event, command=shlex.join(args), matcher=matcher, timeout_s=timeout_s)

    def records(self, name: str) -> list[dict[str, Any]]:
        path = self.record_path(name)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def hooks(tmp_path) -> Hooks:
    return Hooks(tmp_path)


@pytest.fixture
def work(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return path


def probe_tool(ran: list[Any], *, safety: Safety = Safety.READ_ONLY) -> FunctionTool:
    async def probe(args, ctx) -> str:
        ran.append(args.get("q"))
        return f"probed {args.get('q')}"

    return FunctionTool(
        "probe", "probe something", {"type": "object", "properties": {"q": {"type": "string"}}},
        fn=probe, safety=safety, kind=ToolKind.EXECUTE if safety is not Safety.READ_ONLY else ToolKind.OTHER,
        subject_arg="q",
    )


def probe_then_done(call: Call) -> Reply:
    if call.last["role"] == "tool":
        return text("done")
    return tools(("p1", "probe", {"q": "x"}))


async def test_every_event_fires_with_the_documented_json(tmp_path, work, hooks):
    events = ("session_start", "user_prompt_submit", "pre_tool_use", "post_tool_use", "pre_compact", "stop")
    ran: list[Any] = []
    async with open_llm(tmp_path) as llm:
        llm.route("main", probe_then_done)
        llm.route_system("You compress a coding agent", lambda call: text("## Goal\nsummary"))
        core = llm.core({"main": policy("main", hooks=tuple(hooks.make(e) for e in events))}, extra_tools=[probe_tool(ran)])
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            assert hooks.records("session_start")  # before any turn
            await session.run_turn("hello")
            await session.run_turn("again")
            await session.compaction.compact(reason="manual", focus="keep the probe results")
        sid, cwd = session.id, str(session.cwd)
    common = {"session_id": sid, "cwd": cwd}
    assert hooks.records("session_start") == [{"event": "session_start", **common, "source": "startup", "profile": "main"}]
    prompts = hooks.records("user_prompt_submit")
    assert [p["prompt"] for p in prompts] == ["hello", "again"]
    assert prompts[0] == {"event": "user_prompt_submit", **common, "turn_id": prompts[0]["turn_id"], "prompt": "hello"}
    pre = hooks.records("pre_tool_use")[0]
    assert pre == {
        "event": "pre_tool_use", **common, "turn_id": prompts[0]["turn_id"], "tool_call_id": "p1",
        "tool_name": "probe", "tool_input": {"q": "x"},
    }
    post = hooks.records("post_tool_use")[0]
    assert post == {**pre, "event": "post_tool_use", "tool_response": {"content": "probed x", "is_error": False}}
    stop = hooks.records("stop")[0]
    assert stop == {
        "event": "stop", **common, "turn_id": prompts[0]["turn_id"], "stop_reason": "end_turn",
        "last_assistant_message": "done", "stop_hook_active": False,
    }
    assert len(hooks.records("stop")) == 2
    assert hooks.records("pre_compact") == [
        {"event": "pre_compact", **common, "turn_id": None, "trigger": "manual",
         "custom_instructions": "keep the probe results"}
    ]


@pytest.mark.parametrize(
    "deny",
    [
        {"answer": {"decision": "deny", "reason": "probing is off limits"}},
        {"exit": 2, "stderr": "probing is off limits"},
    ],
    ids=["json", "exit-code-2"],
)
async def test_pre_tool_use_deny_stops_the_tool(tmp_path, work, hooks, deny):
    ran: list[Any] = []
    async with open_llm(tmp_path) as llm:
        llm.route("main", probe_then_done)
        configured = (hooks.make("pre_tool_use", matcher="pro*", **deny), hooks.make("post_tool_use"))
        core = llm.core({"main": policy("main", hooks=configured)}, extra_tools=[probe_tool(ran)])
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            await session.run_turn("probe it")
    assert ran == []
    result = llm.calls_of("main")[1].tool_results()[0]
    assert "Blocked by a pre_tool_use hook: probing is off limits" in result
    assert hooks.records("post_tool_use") == []  # the tool never ran


async def test_matchers_select_tools_by_glob(tmp_path, work, hooks):
    ran: list[Any] = []
    async with open_llm(tmp_path) as llm:
        llm.route("main", probe_then_done)
        configured = (hooks.make("pre_tool_use", matcher="other_*", answer={"decision": "deny", "reason": "no"}),)
        core = llm.core({"main": policy("main", hooks=configured)}, extra_tools=[probe_tool(ran)])
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            await session.run_turn("probe it")
    assert ran == ["x"] and hooks.records("pre_tool_use") == []


async def test_allow_skips_the_ask_and_ask_forces_one(tmp_path, work, hooks):
    ran: list[Any] = []
    async with open_llm(tmp_path) as llm:
        llm.route("main", probe_then_done)
        allow = (hooks.make("pre_tool_use", answer={"decision": "allow"}),)
        risky = probe_tool(ran, safety=Safety.DESTRUCTIVE)
        core = llm.core({"main": policy("main", hooks=allow, mode=PermissionMode.ASK)}, extra_tools=[risky])
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            with trio.fail_after(WAIT_S):  # without the hook this would wait for a person forever
                await session.run_turn("probe it")
        assert ran == ["x"] and not log.of(PermissionRequested)

    ran.clear()
    async with open_llm(tmp_path) as llm:
        llm.route("main", probe_then_done)
        ask = (hooks.make("pre_tool_use", name="ask", answer={"decision": "ask", "reason": "double-check"}),)
        core = llm.core({"main": policy("main", hooks=ask, mode=PermissionMode.YOLO)}, extra_tools=[probe_tool(ran)])
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(session.run_turn, "probe it")
                request = (await log.wait_for(lambda e: isinstance(e, PermissionRequested)))[0]
                assert ran == []  # a read-only tool in yolo mode, and still it waits for a person
                session.permissions.resolve(request.request_id, PermissionOption.ALLOW_ONCE)
        assert ran == ["x"]


async def test_prompt_hooks_add_context_or_block_the_prompt(tmp_path, work, hooks):
    async with open_llm(tmp_path) as llm:
        llm.route("main", lambda call: text("answered"))
        context = (hooks.make("user_prompt_submit", answer={"additional_context": "The sprint ends Friday."}),)
        core = llm.core({"main": policy("main", hooks=context)})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            await session.run_turn("when is the deadline?")
        prompt, note = llm.calls_of("main")[0].user_texts()
        assert prompt == "when is the deadline?" and "The sprint ends Friday." in note

    async with open_llm(tmp_path) as llm:
        llm.route("main", lambda call: text("answered"))
        block = (hooks.make("user_prompt_submit", name="block", exit=2, stderr="no secrets in prompts"),)
        core = llm.core({"main": policy("main", hooks=block)})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            outcome = await session.run_turn("my password is hunter2")
            assert outcome.stop_reason is StopReason.REFUSAL
            assert len(session.history) == 0
            assert any("no secrets in prompts" in n.text for n in log.of(Notice))
        assert llm.calls_of("main") == []


async def test_post_tool_use_context_reaches_the_model_and_session_start_context_the_prompt(tmp_path, work, hooks):
    async with open_llm(tmp_path) as llm:
        llm.route("main", probe_then_done)
        configured = (
            hooks.make("post_tool_use", answer={"additional_context": "lint: 2 warnings"}),
            hooks.make("session_start", answer={"additional_context": "Today is release day."}),
        )
        core = llm.core({"main": policy("main", hooks=configured)}, extra_tools=[probe_tool([])])
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            await session.run_turn("probe it")
    first, second = llm.calls_of("main")
    assert "Today is release day." in first.system
    result = second.tool_results()[0]
    assert result.startswith("probed x") and "lint: 2 warnings" in result


async def test_failing_hooks_are_reported_and_skipped(tmp_path, work, hooks):
    ran: list[Any] = []
    pidfile = tmp_path / "slow.pid"
    async with open_llm(tmp_path) as llm:
        llm.route("main", probe_then_done)
        configured = (
            hooks.make("pre_tool_use", name="crash", exit=1, stderr="boom"),
            hooks.make("pre_tool_use", name="garbage", answer="{not json"),
            hooks.make("pre_tool_use", name="bad", answer={"decision": "maybe"}),
            hooks.make("pre_tool_use", name="slow", sleep=30, pidfile=str(pidfile), timeout_s=0.3),
        )
        core = llm.core({"main": policy("main", hooks=configured)}, extra_tools=[probe_tool(ran)])
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            with trio.fail_after(WAIT_S):
                await session.run_turn("probe it")
    assert ran == ["x"]  # every hook failed, so none decided anything
    notices = " | ".join(n.text for n in log.of(Notice))
    assert "exited with code 1: boom" in notices
    assert "printed invalid JSON" in notices
    assert 'answered "decision": "maybe"' in notices
    assert "timed out after 0.3 s and was killed" in notices
    pid = int(pidfile.read_text())
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"


async def test_a_stop_hook_can_send_the_agent_back_to_work(tmp_path, work, hooks):
    async with open_llm(tmp_path) as llm:
        llm.route("main", lambda call: text("really done" if "run the tests" in call.last_text else "done"))
        stop = hooks.make(
            "stop", stdout_unless_active=json.dumps({"decision": "deny", "reason": "run the tests first"})
        )
        core = llm.core({"main": policy("main", hooks=(stop,))})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            outcome = await session.run_turn("finish up")
    assert outcome.text == "really done" and outcome.stop_reason is StopReason.END_TURN
    assert len(llm.calls_of("main")) == 2
    assert [r["stop_hook_active"] for r in hooks.records("stop")] == [False, True]


async def test_hooks_come_from_toml_configuration(tmp_path, hooks):
    from agentcore.app import build_app
    from agentcore.config.paths import resolve_paths
    from agentcore.trust import TrustStore

    project = tmp_path / "project"
    (project / ".agent").mkdir(parents=True)
    start = hooks.make("session_start")
    compact = hooks.make("pre_compact")
    (project / ".agent" / "config.toml").write_text(
        "".join(f"[[hooks]]\nevent = {json.dumps(h.event)}\ncommand = {json.dumps(h.command)}\n\n" for h in (start, compact))
    )
    env = {"AGENTCORE_HOME": str(tmp_path / "home")}
    TrustStore.of(resolve_paths(env)).trust(project, home=None)  # the user trusts it, as `agent trust` records
    app = build_app(cwd=project, env=env, frontend=Frontend.library())
    assert [h.event for h in app.settings.hooks] == ["session_start", "pre_compact"]
    async with app.core.open_session(app.session_info()) as session:
        pass
    assert hooks.records("session_start")[0]["session_id"] == session.id
