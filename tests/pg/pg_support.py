"""Helpers for the PostgreSQL store tests: the session-store tests' own helpers
(tests/store/store_support.py: a core recording into a store, the scripted
OpenAI-wire replies, the echo tool), with a key of their own so a leak check
here cannot be satisfied by a journal test's key."""

from __future__ import annotations

from pathlib import Path

import httpx
from fakes.llm_server import FakeServer
from fakes.modules import load_module

from agentcore.llm.openai_chat import OpenAiChatProvider

_store = load_module("store_support", Path(__file__).resolve().parent.parent / "store" / "store_support.py")

API_KEY = "sk-pg-test-5a4b3c2d1e0f9988776655"
MODEL = _store.MODEL
CLOCK_START = _store.CLOCK_START
FAST_RETRY = _store.FAST_RETRY
ECHO_TOOL = _store.ECHO_TOOL
ticking_clock = _store.ticking_clock
make_core = _store.make_core
info = _store.info
text = _store.text
tool_call = _store.tool_call
wire_texts = _store.wire_texts


def make_provider(server: FakeServer, client: httpx.AsyncClient) -> OpenAiChatProvider:
    return _store.make_provider(server, client, key=API_KEY)
