"""Turn started / ended updates for every client attached to a live session
(``agent serve``, one hub shared by in-process connections).

A client that sets ``clientCapabilities._meta.agentcore.turnUpdates`` gets a
``session_info_update`` carrying ``_meta.agentcore.turn`` when any client's
turn starts (before the turn's first update) and when it ends (stop reason
and usage, before the prompt's answer), naming who started it; one that
attaches mid-turn learns first that a turn runs; a client without the flag
sees nothing new. Every message is checked against the official ACP schemas
(stable and unstable)."""

from __future__ import annotations

from typing import Any

import trio
from acp_fakes import Pause, ScriptedProvider, text_reply
from acp_schema import SCHEMAS, validate_definition
from test_acp_multi_client import (
    WAIT_S,
    attach,
    is_answer,
    new_session,
    prompt_params,
    read_until,
    server,
)

TURNS = {"_meta": {"agentcore": {"turnUpdates": True}}}


def turn_updates(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        m["params"]["update"]["_meta"]["agentcore"]["turn"]
        for m in messages
        if m.get("method") == "session/update"
        and m["params"]["update"]["sessionUpdate"] == "session_info_update"
        and "turn" in ((m["params"]["update"].get("_meta") or {}).get("agentcore") or {})
    ]


def kinds(messages: list[dict[str, Any]]) -> list[str]:
    return [m["params"]["update"]["sessionUpdate"] for m in messages if m.get("method") == "session/update"]


async def test_every_opted_in_client_hears_a_turn_start_and_end_naming_who_started_it(
    provider: ScriptedProvider, core, workspace
) -> None:
    provider.add(text_reply("shared ", "reply"))
    async with server(core) as (_hub, connect):
        a, _ = await connect(caps=TURNS)
        b, _ = await connect(caps=TURNS)
        plain, _ = await connect()  # no turnUpdates flag
        advertised = (await b.request("initialize", {"protocolVersion": 1, "clientCapabilities": TURNS}))["result"]
        assert advertised["agentCapabilities"]["_meta"]["agentcore"]["turnUpdates"]["sessionUpdate"] == "session_info_update"

        sid = await new_session(a, workspace)
        b_attached = await attach(b, sid, owner=a)
        plain_attached = await attach(plain, sid, role="observer")
        assert b_attached["clientId"] != plain_attached["clientId"]

        await a.send({"jsonrpc": "2.0", "id": 50, "method": "session/prompt", "params": prompt_params(sid, "hi")})
        seen_a = await read_until(a, is_answer(50))
        seen_b = await read_until(b, lambda m: any(t["state"] == "ended" for t in turn_updates([m])))
        seen_plain = await read_until(plain, lambda m: kinds([m]) == ["usage_update"])

        a_turns, b_turns = turn_updates(seen_a), turn_updates(seen_b)
        assert [t["state"] for t in a_turns] == ["running", "ended"] == [t["state"] for t in b_turns]
        started_by = a_turns[0]["startedBy"]
        assert started_by and started_by != b_attached["clientId"]
        assert [t["startedBy"] for t in b_turns] == [started_by, started_by]
        assert [t["thisClient"] for t in a_turns] == [True, True] and [t["thisClient"] for t in b_turns] == [False, False]
        assert a_turns[0]["turnId"] == a_turns[1]["turnId"] == b_turns[0]["turnId"]
        end = b_turns[1]
        assert end["stopReason"] == "end_turn"
        assert end["usage"]["inputTokens"] == 120 and end["usage"]["outputTokens"] == 12

        # Order: start before the turn's first update; end after its last and before the answer.
        for seen in (seen_a, seen_b):
            updates = [m for m in seen if m.get("method") == "session/update"]
            first_chunk = next(i for i, m in enumerate(updates) if kinds([m]) == ["agent_message_chunk"])
            marks = [i for i, m in enumerate(updates) if turn_updates([m])]
            assert marks[0] < first_chunk and marks[1] == len(updates) - 1
        assert "method" not in seen_a[-1] and turn_updates(seen_a[-2:-1])  # the end, then the answer

        # The client without the flag sees the turn, and nothing of the new updates.
        assert "agent_message_chunk" in kinds(seen_plain) and not turn_updates(seen_plain)
        assert not [m for m in seen_plain if "_meta" in m.get("params", {}).get("update", {})]

        for message in [*seen_a, *seen_b]:
            if message.get("method") == "session/update":
                for which in SCHEMAS:
                    validate_definition("SessionNotification", message["params"], which)


async def test_a_client_attaching_mid_turn_learns_first_that_a_turn_runs_and_then_how_it_ended(
    provider: ScriptedProvider, core, workspace
) -> None:
    pause = Pause()
    provider.add([*text_reply("first ")[:1], pause, *text_reply("second")])
    async with server(core) as (_hub, connect):
        a, _ = await connect(caps=TURNS)
        sid = await new_session(a, workspace)
        await a.send({"jsonrpc": "2.0", "id": 70, "method": "session/prompt", "params": prompt_params(sid, "work")})
        with trio.fail_after(WAIT_S):
            await pause.reached.wait()

        late, _ = await connect(caps=TURNS)
        attached = await attach(late, sid, role="observer", history="none")
        assert attached["turnRunning"] is True
        first = late.notifications[0]
        assert turn_updates([first]) and turn_updates([first])[0]["state"] == "running"
        assert turn_updates([first])[0]["thisClient"] is False and turn_updates([first])[0]["startedBy"]

        pause.opened.set()
        seen = await read_until(late, lambda m: any(t["state"] == "ended" for t in turn_updates([m])))
        assert turn_updates(seen)[-1]["stopReason"] == "end_turn"
        answer = (await read_until(a, is_answer(70)))[-1]
        assert answer["result"]["stopReason"] == "end_turn"


async def test_a_turn_the_other_client_cancels_ends_cancelled_for_both(provider: ScriptedProvider, core, workspace) -> None:
    pause = Pause()
    provider.add([*text_reply("before")[:1], pause, *text_reply("never")])
    async with server(core) as (_hub, connect):
        a, _ = await connect(caps=TURNS)
        b, _ = await connect(caps=TURNS)
        sid = await new_session(a, workspace)
        await attach(b, sid, owner=a)
        await a.send({"jsonrpc": "2.0", "id": 80, "method": "session/prompt", "params": prompt_params(sid, "long")})
        with trio.fail_after(WAIT_S):
            await pause.reached.wait()
        await b.notify("session/cancel", {"sessionId": sid})
        seen_a = await read_until(a, is_answer(80))
        seen_b = await read_until(b, lambda m: any(t["state"] == "ended" for t in turn_updates([m])))
        assert turn_updates(seen_a)[-1]["stopReason"] == "cancelled" == turn_updates(seen_b)[-1]["stopReason"]
