"""The speech backends ``agent voice`` offers, by name: shared by the argument
parser (:mod:`agentcore.live.cli`, which must stay cheap to import) and the
voice frontend (:mod:`agentcore.live.voice_app`)."""

from __future__ import annotations

BACKENDS = ("cascade", "openai-realtime", "gemini-live")
