"""Process metrics in the Prometheus text format (``agent serve``'s ``/metrics``).

Invariants:

* Metrics carry counts, durations and money only — never a session id, a path,
  a prompt or anything a label could leak; labels are bounded enums (a stop
  reason, a provider's model name is deliberately not one).
* :class:`MetricsObserver` is a session observer: every core built by
  :class:`~agentcore.core.AgentCoreBuilder` feeds the process registry
  (:func:`process_metrics`) with a few dictionary updates per event, on the
  session's own task; rendering reads a consistent-enough snapshot (counters
  only grow, gauges are point-in-time).
* Model-call latency is measured from events: from the turn's start, or the
  previous call's end, or the last tool result (whichever is latest) to the
  call's ``LlmCallFinished`` — the time the model and the network took,
  retries included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agentcore.events import (
    AgentEvent,
    LlmCallFinished,
    ToolCallFinished,
    TurnAborted,
    TurnEnded,
    TurnStarted,
    UsageCharged,
)

LATENCY_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
PREFIX = "agentcore_"


class Metrics:
    """Counters, gauges and histograms by name and a small label set."""

    def __init__(self) -> None:
        self.help: dict[str, tuple[str, str]] = {}  # name -> (type, help)
        self.values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.histograms: dict[str, list[float]] = {}  # name -> bucket counts (+Inf last), then sum and count

    def declare(self, name: str, kind: str, text: str) -> None:
        self.help.setdefault(name, (kind, text))

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        self.values[key] = self.values.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        self.values[(name, tuple(sorted(labels.items())))] = value

    def observe(self, name: str, value: float) -> None:
        counts = self.histograms.setdefault(name, [0.0] * (len(LATENCY_BUCKETS_S) + 3))
        for i, bound in enumerate(LATENCY_BUCKETS_S):
            if value <= bound:
                counts[i] += 1
        counts[len(LATENCY_BUCKETS_S)] += 1  # +Inf
        counts[-2] += value
        counts[-1] += 1

    def get(self, name: str, **labels: str) -> float:
        return self.values.get((name, tuple(sorted(labels.items()))), 0.0)

    def render(self, extra: Iterable[tuple[str, str, str, float]] = ()) -> str:
        """The Prometheus text exposition (version 0.0.4); ``extra``: (name, type, help, value) gauges read now."""
        lines: list[str] = []
        names = sorted({name for name, _ in self.values} | set(self.histograms) | set(self.help))
        for name, kind, text, value in extra:
            lines += [f"# HELP {PREFIX}{name} {text}", f"# TYPE {PREFIX}{name} {kind}", f"{PREFIX}{name} {_num(value)}"]
        for name in names:
            kind, text = self.help.get(name, ("untyped", name))
            lines += [f"# HELP {PREFIX}{name} {text}", f"# TYPE {PREFIX}{name} {kind}"]
            if name in self.histograms:
                counts = self.histograms[name]
                for bound, count in zip((*map(str, LATENCY_BUCKETS_S), "+Inf"), counts):
                    lines.append(f'{PREFIX}{name}_bucket{{le="{bound}"}} {_num(count)}')
                lines += [f"{PREFIX}{name}_sum {_num(counts[-2])}", f"{PREFIX}{name}_count {_num(counts[-1])}"]
                continue
            rows = sorted((labels, v) for (n, labels), v in self.values.items() if n == name)
            if not rows and kind in ("counter", "gauge"):
                rows = [((), 0.0)]
            for labels, value in rows:
                lines.append(f"{PREFIX}{name}{_labels(labels)} {_num(value)}")
        return "\n".join(lines) + "\n"


def _labels(labels: Iterable[tuple[str, str]]) -> str:
    pairs = [f'{k}="{_escape(v)}"' for k, v in labels]
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


_DECLARED: Mapping[str, tuple[str, str]] = {
    "sessions_live": ("gauge", "Sessions open in this process."),
    "turns_running": ("gauge", "Turns running now."),
    "turns_total": ("counter", "Turns ended, by stop reason (aborted: a fatal error)."),
    "llm_calls_total": ("counter", "Model calls completed."),
    "llm_call_seconds": ("histogram", "Model call latency (from events: turn start or last result to the call's end)."),
    "llm_input_tokens_total": ("counter", "Tokens the model read (fresh input, cache reads and writes)."),
    "llm_output_tokens_total": ("counter", "Tokens the model wrote."),
    "llm_cost_usd_total": ("counter", "Model cost in US dollars, as the catalog prices it."),
}


class MetricsObserver:
    """Feeds a :class:`Metrics` from every session a core opens (a ``SessionObserver``)."""

    def __init__(self, metrics: Metrics, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics, self._clock = metrics, clock
        for name, (kind, text) in _DECLARED.items():
            metrics.declare(name, kind, text)
        self._mark: dict[int, float] = {}  # per session: when the current model call began, as far as events tell

    def session_opened(self, session: Any) -> None:
        self.metrics.inc("sessions_live")

    def session_closed(self, session: Any) -> None:
        self.metrics.inc("sessions_live", -1)
        if self._mark.pop(id(session), None) is not None:
            self.metrics.inc("turns_running", -1)  # closed mid-turn: the turn is over

    def on_event(self, session: Any, event: AgentEvent) -> None:
        # One dict lookup for the many events that are not counted (text deltas above all).
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, id(session), event)

    def _turn_started(self, key: int, event: Any) -> None:
        self.metrics.inc("turns_running")
        self._mark[key] = self._clock()

    def _turn_ended(self, key: int, event: Any) -> None:
        self._turn_over(key, event.stop_reason.value)

    def _turn_aborted(self, key: int, event: Any) -> None:
        self._turn_over(key, "aborted")

    def _tool_finished(self, key: int, event: Any) -> None:
        if key in self._mark:
            self._mark[key] = self._clock()

    def _llm_finished(self, key: int, event: Any) -> None:
        now = self._clock()
        began = self._mark.get(key)
        if began is not None:
            self.metrics.observe("llm_call_seconds", now - began)
            self._mark[key] = now
        self._usage(event.usage, event.cost_usd)

    def _charged(self, key: int, event: Any) -> None:
        self._usage(event.usage, event.cost_usd)

    def _usage(self, usage: Any, cost: float) -> None:
        m = self.metrics
        m.inc("llm_calls_total")
        m.inc("llm_input_tokens_total", usage.prompt_tokens)
        m.inc("llm_output_tokens_total", usage.output_tokens)
        m.inc("llm_cost_usd_total", cost)

    def _turn_over(self, key: int, stop: str) -> None:
        if self._mark.pop(key, None) is not None:
            self.metrics.inc("turns_running", -1)
        self.metrics.inc("turns_total", stop=stop)


_HANDLERS: Mapping[type, Callable[[MetricsObserver, int, Any], None]] = {
    TurnStarted: MetricsObserver._turn_started,
    TurnEnded: MetricsObserver._turn_ended,
    TurnAborted: MetricsObserver._turn_aborted,
    ToolCallFinished: MetricsObserver._tool_finished,
    LlmCallFinished: MetricsObserver._llm_finished,
    UsageCharged: MetricsObserver._charged,
}
_PROCESS = Metrics()


def process_metrics() -> Metrics:
    """The registry every core of this process feeds (what ``/metrics`` renders)."""
    return _PROCESS
