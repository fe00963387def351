"""The voice live layer: a full-duplex voice frontend over ``Session``.

Public names load lazily, so ``import agentcore.live`` stays cheap and the
optional packages (trio-websocket, pocketsphinx, sounddevice) are imported
only by the backend or transport that needs them. See ``docs/voice.md``.
"""

from __future__ import annotations

from agentcore._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "VoiceController": "agentcore.live.controller",
    "VoiceConfig": "agentcore.live.controller",
    "DetectorRule": "agentcore.live.controller",
    "Signal": "agentcore.live.controller",
    "SpeechBackend": "agentcore.live.backend",
    "BackendSeed": "agentcore.live.backend",
    "BackendCapabilities": "agentcore.live.backend",
    "BackendError": "agentcore.live.backend",
    "BackendConnectError": "agentcore.live.backend",
    "BackendUnavailable": "agentcore.live.backend",
    "AudioTransport": "agentcore.live.transport",
    "WavFileTransport": "agentcore.live.transport",
    "StreamedAudioTransport": "agentcore.live.stream_transport",
    "DeviceTransport": "agentcore.live.devices",
    "OpenAIRealtimeBackend": "agentcore.live.openai_realtime",
    "GeminiLiveBackend": "agentcore.live.gemini_live",
    "CascadeBackend": "agentcore.live.cascade",
    "check_cascade": "agentcore.live.cascade",
    "TranscriptReducer": "agentcore.live.reducer",
    "VoiceState": "agentcore.live.state",
    "ToolMode": "agentcore.live.tools",
    "Phase": "agentcore.live.phases",
    "PhaseMachine": "agentcore.live.phases",
    "Transition": "agentcore.live.phases",
    "StateStore": "agentcore.live.phases",
    "Steering": "agentcore.live.steering",
    "Delivery": "agentcore.live.steering",
    "SessionMetrics": "agentcore.live.telemetry",
    "LiveUpdate": "agentcore.live.flow",
    "TranscriptUpdate": "agentcore.live.flow",
    "StateUpdate": "agentcore.live.flow",
    "NoticeUpdate": "agentcore.live.flow",
    "update_kind": "agentcore.live.wire",
    "update_json": "agentcore.live.wire",
    "metrics_json": "agentcore.live.wire",
    "SnapshotStore": "agentcore.live.snapshot",
    "LiveSnapshot": "agentcore.live.snapshot",
    "FileSnapshotStore": "agentcore.live.snapshot",
    "SessionPersistence": "agentcore.live.persistence",
    "MemorySnapshotStore": "agentcore.live.persistence",
    "PhaseTransition": "agentcore.live.phases",
    "TranscriptTurn": "agentcore.live.transcript",
    "TranscriptWindow": "agentcore.live.transcript",
    "TurnExtractor": "agentcore.live.extraction",
    "ExtractField": "agentcore.live.extraction",
    "Merge": "agentcore.live.extraction",
    "EveryTurn": "agentcore.live.extraction",
    "EveryNTurns": "agentcore.live.extraction",
    "OnPhase": "agentcore.live.extraction",
    "OnKeyword": "agentcore.live.extraction",
    "LiveHandle": "agentcore.live.handle",
    "HandleError": "agentcore.live.handle",
    "CallbackRegistry": "agentcore.live.callbacks",
    "CallbackMode": "agentcore.live.callbacks",
    "Overflow": "agentcore.live.callbacks",
    "TurnCompleted": "agentcore.live.control_events",
    "PhaseTransitioned": "agentcore.live.control_events",
    "ExtractionCompleted": "agentcore.live.control_events",
    "ExtractionFailed": "agentcore.live.control_events",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
