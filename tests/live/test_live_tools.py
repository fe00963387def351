"""Tool calls from a realtime backend go through the session's registry and gate."""

from __future__ import annotations

import json

import trio

from agentcore import FunctionTool, Safety
from agentcore.events import ToolCallFinished, ToolCallStarted
from agentcore.live.controller import VoiceConfig
from agentcore.live.tools import ToolMode
from fake_realtime import FakeRealtimeServer, Reply
from live_helpers import speech_pattern
from test_live_openai import _run

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER_DELAY_S = 4.0


def weather_tool(calls: list[str]) -> FunctionTool:
    async def weather(args, ctx):
        calls.append(args["city"])
        await trio.sleep(WEATHER_DELAY_S)
        return f"sunny in {args['city']}"

    return FunctionTool("lookup_weather", "Weather for a city.", SCHEMA, fn=weather)


async def test_blocking_tool_runs_through_the_session_and_answers(tmp_path, autojump_clock):
    calls: list[str] = []
    server = FakeRealtimeServer(
        transcripts=["weather in paris"],
        replies=[Reply(tool=("lookup_weather", {"city": "Paris"})), Reply("It is sunny in Paris")],
    )
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 8000)])
    seen: list = []
    session, _c, metrics, _appended, rows = await _run(tmp_path, server, pattern, tools=[weather_tool(calls)], listener=None, observe=seen.append)
    assert calls == ["Paris"]
    # The session's event stream shows the call like any text-turn tool call.
    assert [type(e) for e in seen if isinstance(e, ToolCallStarted | ToolCallFinished)] == [ToolCallStarted, ToolCallFinished]
    assert rows == [
        ("user", "weather in paris"),
        ("tool_use", "lookup_weather"),
        ("tool_result", "sunny in Paris"),
        ("assistant", "It is sunny in Paris"),
    ]
    outputs = [m["item"] for m in server.connections[0].of_type("conversation.item.create")]
    assert outputs[-1]["type"] == "function_call_output" and outputs[-1]["output"] == "sunny in Paris"
    assert metrics.tool_calls == 1 and metrics.tool_latency_ms == [WEATHER_DELAY_S * 1000]


async def test_tool_calls_respect_the_permission_gate(tmp_path, autojump_clock):
    ran: list[str] = []

    async def delete(args, ctx):
        ran.append(args["city"])
        return "deleted"

    tool = FunctionTool("delete_city", "Delete a city.", SCHEMA, fn=delete, safety=Safety.DESTRUCTIVE)
    server = FakeRealtimeServer(transcripts=["delete paris"], replies=[Reply(tool=("delete_city", {"city": "Paris"})), Reply("I could not")])
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 4000)])
    _s, _c, _m, _a, rows = await _run(tmp_path, server, pattern, tools=[tool])
    assert ran == []  # a non-interactive voice session in ask mode denies destructive tools
    assert rows[1] == ("tool_use", "delete_city") and rows[2][0] == "tool_result"
    assert rows[2][1].startswith("Permission denied")


async def test_background_tool_keeps_talking_and_delivers_when_quiet(tmp_path, autojump_clock):
    calls: list[str] = []
    bridge = "Let me check the weather for you"
    server = FakeRealtimeServer(
        transcripts=["weather in paris"],
        replies=[Reply(tool=("lookup_weather", {"city": "Paris"})), Reply(bridge), Reply("It is sunny in Paris")],
    )
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 9000)])
    config = VoiceConfig(tool_modes={"lookup_weather": ToolMode.BACKGROUND})
    _s, _c, metrics, _a, rows = await _run(tmp_path, server, pattern, tools=[weather_tool(calls)], config=config)
    assert rows[0] == ("user", "weather in paris")
    assert rows[1] == ("tool_use", "lookup_weather")
    assert rows[2][0] == "tool_result" and "background" in rows[2][1]
    assert rows[3] == ("assistant", bridge)
    assert rows[4][0] == "background" and "sunny in Paris" in rows[4][1]
    assert rows[5] == ("assistant", "It is sunny in Paris")
    call_turn, bridge_turn, answer_turn = metrics.turns
    # No gap: the bridge phrase starts while the tool is still running...
    assert bridge_turn.first_audio_at - call_turn.started_at < 0.1
    assert bridge_turn.first_audio_at < call_turn.started_at + WEATHER_DELAY_S
    # ...and the result is spoken only after the bridge finished playing.
    assert answer_turn.started_at >= call_turn.started_at + WEATHER_DELAY_S
    assert bridge_turn.heard_ratio == 1.0
    injected = [m["item"] for m in server.connections[0].of_type("conversation.item.create") if m["item"]["type"] == "message"]
    assert "sunny in Paris" in injected[-1]["content"][0]["text"]


async def test_stale_background_result_is_dropped_after_barge_in(tmp_path, autojump_clock):
    calls: list[str] = []
    bridge = "Let me check the weather for you while you wait a moment please"
    server = FakeRealtimeServer(
        transcripts=["weather in paris", "never mind"],
        replies=[Reply(tool=("lookup_weather", {"city": "Paris"})), Reply(bridge), Reply("Okay")],
    )
    # The bridge (3.6 s) starts at ~1.5 s; the user talks over it at 2.2 s.
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 1200), ("speech", 600), ("silence", 8000)])
    config = VoiceConfig(tool_modes={"lookup_weather": ToolMode.BACKGROUND})
    _s, _c, metrics, _a, rows = await _run(tmp_path, server, pattern, tools=[weather_tool(calls)], config=config)
    assert calls == ["Paris"]
    assert metrics.stale_results_dropped == 1
    assert not any(role == "background" for role, _ in rows)
    assert rows[-2:] == [("user", "never mind"), ("assistant", "Okay")]
    injected = [m["item"] for m in server.connections[0].of_type("conversation.item.create") if m["item"]["type"] == "message"]
    assert injected == []


async def test_invalid_arguments_become_an_error_result(tmp_path, autojump_clock):
    calls: list[str] = []
    server = FakeRealtimeServer(transcripts=["weather"], replies=[Reply(tool=("lookup_weather", {"town": 3})), Reply("Sorry")])
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 4000)])
    _s, _c, _m, _a, rows = await _run(tmp_path, server, pattern, tools=[weather_tool(calls)])
    assert calls == []
    assert rows[2][0] == "tool_result" and "city" in rows[2][1]
    assert rows[3] == ("assistant", "Sorry")
    assert json.loads(json.dumps(rows))  # plain values only
