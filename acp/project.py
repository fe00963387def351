"""AgentEvent -> ACP ``session/update`` payloads, and history -> replay updates.

The projection is a small state machine per session: it remembers which tool
calls it has announced and how far each got, so a tool call is always
``tool_call`` (pending) -> ``tool_call_update`` (in_progress) ->
``tool_call_update`` (completed | failed), whatever subset of events the turn
produced. Text coalescing and timing live in :mod:`acp.pump`; this module is
pure (no I/O, no clock) so every mapping is tested directly.

Payloads are plain dicts in the wire shape (camelCase keys), ready to be put
under ``{"sessionId": ..., "update": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, assert_never

import attrs

from agentcore.events import (
    McpServerStatus,
    AgentEvent,
    AssistantTextDelta,
    BackgroundTaskFinished,
    CompactionStarted,
    ContextCompressed,
    HistoryRolledBack,
    LlmCallFinished,
    MessageAppended,
    ModeChanged,
    ModelChanged,
    Notice,
    SavingStopped,
    PermissionRequested,
    PermissionResolved,
    PlanEntry,
    PlanUpdated,
    PromptCommitted,
    RetryScheduled,
    ThoughtDelta,
    TitleChanged,
    UsageCharged,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
    TurnAborted,
    TurnEnded,
    TurnStarted,
)
from agentcore.messages import (
    AssistantMessage,
    Citation,
    ImageBlock,
    ImageRef,
    Message,
    MessageKind,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    UserMessage,
    new_id,
    resolve_image,
    thaw_json,
)
from agentcore.permissions import EXIT_PLAN_MODE, PermissionOption
from agentcore.tools import DiffPreview, Location, ToolKind, ToolResult

Update = dict[str, Any]

PROGRESS_TEXT_MAX_CHARS = 64 * 1024  # chars of live tool output kept in the tool-call view; the tail matters most
REPLAY_TITLE_MAX_CHARS = 80  # chars of a replayed call's argument shown in its title
COST_CURRENCY = "USD"  # every price in the model catalog is in US dollars
COMMAND_TITLE_MAX_CHARS = 120  # chars of a command in a tool call's title; the full command is in its content
DESCRIPTION_SEPARATOR = " — "  # between what runs and the model's description of it
PERMISSION_OPTIONS = (
    (PermissionOption.ALLOW_ONCE, "Allow once"),
    (PermissionOption.ALLOW_ALWAYS, "Always allow"),
    (PermissionOption.REJECT_ONCE, "Reject"),
    (PermissionOption.REJECT_ALWAYS, "Always reject"),
)
# The plan's approval (exit_plan_mode in plan mode): "always" means "and accept edits"; no rule is written.
PLAN_OPTIONS = (
    (PermissionOption.ALLOW_ONCE, "Yes, approve the plan"),
    (PermissionOption.ALLOW_ALWAYS, "Yes, and auto-accept edits"),
    (PermissionOption.REJECT_ONCE, "No, keep planning"),
)


@attrs.frozen
class ClientFeatures:
    """Optional session updates the client advertised it can present."""

    notices: bool = False
    compaction: bool = False
    unstable: bool = False  # unstable fields without a capability of their own (PromptResponse.usage)
    turns: bool = False  # turn started / ended updates (``_meta.agentcore.turn`` on ``session_info_update``)
    elicitation: frozenset[str] = frozenset()  # elicitation modes it shows ("form", "url")


# ------------------------------------------------------------------ builders

TURN_META_KEY = "turn"  # under ``_meta.agentcore`` of a ``session_info_update``


@attrs.frozen
class TurnOrigin:
    """Who started a turn: an attached client's id, or None (the agent itself:
    a background task's outcome, a spoken prompt)."""

    client_id: str | None = None


def turn_update(turn_id: str, state: str, origin: TurnOrigin | None, *, own_id: str, **end: Any) -> Update:
    """A turn started (``state`` "running") or ended ("ended": ``stopReason`` and
    ``usage``, or ``error``), as a ``session_info_update`` whose ``_meta`` says so
    (the schema has no turn update; ``_meta`` is free-form on every update)."""
    by = origin.client_id if origin is not None else None
    turn: dict[str, Any] = {"turnId": turn_id, "state": state, "startedBy": by, "thisClient": by is not None and by == own_id}
    turn.update({key: value for key, value in end.items() if value is not None})
    return {"sessionUpdate": "session_info_update", "_meta": {"agentcore": {TURN_META_KEY: turn}}}


def usage_json(usage: Any) -> dict[str, Any]:
    """A turn's :class:`~agentcore.messages.Usage` in the shape of ACP's (unstable) ``Usage``."""
    total = usage.prompt_tokens + usage.output_tokens
    body = {"totalTokens": total, "inputTokens": usage.prompt_tokens, "outputTokens": usage.output_tokens}
    for key, value in (("thoughtTokens", usage.reasoning_tokens), ("cachedReadTokens", usage.cache_read_tokens),
                       ("cachedWriteTokens", usage.cache_write_tokens)):
        if value:
            body[key] = value
    return body


CHUNK_KINDS = frozenset({"agent_message_chunk", "agent_thought_chunk", "user_message_chunk"})


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def content_chunk(kind: str, text: str, message_id: str | None = None) -> Update:
    """``kind`` is agent_message_chunk, agent_thought_chunk or user_message_chunk;
    chunks of one message share its ``messageId``."""
    update: Update = {"sessionUpdate": kind, "content": text_block(text)}
    if message_id is not None:
        update["messageId"] = message_id
    return update


def source_chunk(citation: Citation, message_id: str | None = None) -> Update:
    """A web source an answer cites (hosted web search), as a ``resource_link`` message chunk."""
    link: dict[str, Any] = {"type": "resource_link", "uri": citation.url, "name": citation.title or citation.url}
    if citation.title:
        link["title"] = citation.title
    update: Update = {"sessionUpdate": "agent_message_chunk", "content": link}
    if message_id is not None:
        update["messageId"] = message_id
    return update


def location_json(location: Location) -> dict[str, Any]:
    out: dict[str, Any] = {"path": location.path}
    if location.line is not None:
        out["line"] = location.line
    return out


def diff_content(diff: DiffPreview) -> dict[str, Any]:
    return {"type": "diff", "path": diff.path, "oldText": diff.old_text, "newText": diff.new_text}


def terminal_content(terminal_id: str) -> dict[str, Any]:
    return {"type": "terminal", "terminalId": terminal_id}


def plan_update(entries: Iterable[PlanEntry]) -> Update:
    return {
        "sessionUpdate": "plan",
        "entries": [{"content": e.content, "priority": e.priority, "status": e.status} for e in entries],
    }


def command_of(kind: ToolKind, raw_input: Mapping[str, Any]) -> str | None:
    """The command a shell-like call runs, from its input."""
    command = raw_input.get("command") if kind is ToolKind.EXECUTE else None
    return command.strip() if isinstance(command, str) and command.strip() else None


def command_title(command: str, description: str) -> str:
    """What runs first, then the model's words about it: "`git status` — Show the status".
    Long or multi-line commands are cut here; the content shows them whole."""
    lines = command.splitlines()
    shown = lines[0][:COMMAND_TITLE_MAX_CHARS]
    if len(lines) > 1 or len(lines[0]) > len(shown):
        shown += " …"
    title = f"`{shown}`"
    described = description.strip()
    if described and described != command and described != shown:
        title += DESCRIPTION_SEPARATOR + described
    return title


def command_content(command: str) -> dict[str, Any]:
    return {"type": "content", "content": text_block(f"```sh\n{command}\n```")}


def tool_call_json(
    call_id: str,
    *,
    name: str,
    title: str,
    kind: ToolKind,
    raw_input: Mapping[str, Any],
    locations: Sequence[Location] = (),
    diff: DiffPreview | None = None,
    command: str | None = None,
) -> Update:
    """The ``tool_call`` announcement (also the ``toolCall`` of a permission request, minus sessionUpdate).

    A shell call's exact ``command`` (default: its ``command`` argument) leads
    the title and is shown whole in the content: editors show neither the
    ``rawInput`` nor anything but the title and content."""
    command = command or command_of(kind, raw_input)
    update: Update = {
        "sessionUpdate": "tool_call",
        "toolCallId": call_id,
        "name": name,
        "title": command_title(command, title) if command else title,
        "kind": kind.value,
        "status": "pending",
        "locations": [location_json(loc) for loc in locations],
        "rawInput": thaw_json(raw_input),
    }
    content: list[dict[str, Any]] = []
    if command:
        content.append(command_content(command))
    if diff is not None:
        content.append(diff_content(diff))
    if content:
        update["content"] = content
    return update


def permission_tool_call(event: PermissionRequested) -> dict[str, Any]:
    """The ``toolCall`` of ``session/request_permission``: what will run, visibly.

    A command leads the title and is shown whole; a path leads the title when
    the tool's own title does not name it; a diff is shown as a diff; anything
    else shows its input as JSON, since editors do not show ``rawInput``."""
    plan = event.raw_input.get("plan") if event.tool_name == EXIT_PLAN_MODE else None
    if isinstance(plan, str):  # the plan to approve, as Markdown
        return {
            "toolCallId": event.call_id, "title": event.title or "Approve the plan", "kind": "switch_mode",
            "status": "pending", "rawInput": thaw_json(event.raw_input),
            "content": [{"type": "content", "content": text_block(plan)}],
        }  # fmt: skip
    command = event.subject if event.kind is ToolKind.EXECUTE and event.subject else None
    title = event.title or event.tool_name
    if command is None and event.subject and event.subject not in title:
        title = f"{event.subject}{DESCRIPTION_SEPARATOR}{title}"
    tool_call = tool_call_json(
        event.call_id, name=event.tool_name, title=title, kind=event.kind, raw_input=event.raw_input, diff=event.diff, command=command
    )
    del tool_call["sessionUpdate"]
    if "content" not in tool_call and event.raw_input:
        arguments = json.dumps(thaw_json(event.raw_input), ensure_ascii=False, indent=2, sort_keys=True)
        tool_call["content"] = [{"type": "content", "content": text_block(f"{event.tool_name}\n```json\n{arguments}\n```")}]
    return tool_call


def permission_options(event: PermissionRequested) -> list[dict[str, Any]]:
    """The four answers; the "always" ones name the rule they add and, for
    "allow always", what that rule admits."""
    if event.tool_name == EXIT_PLAN_MODE:
        return [{"optionId": option.value, "name": name, "kind": option.value} for option, name in PLAN_OPTIONS]
    options = []
    for option, name in PERMISSION_OPTIONS:
        if option in (PermissionOption.ALLOW_ALWAYS, PermissionOption.REJECT_ALWAYS) and event.always_rule:
            admits = event.always_admits if option is PermissionOption.ALLOW_ALWAYS else ""
            name = f"{name} ({event.always_rule}{': ' + admits if admits else ''})"
        options.append({"optionId": option.value, "name": name, "kind": option.value})
    return options


def result_content(result: ToolResult, *, terminal_id: str | None) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if terminal_id is not None:
        content.append(terminal_content(terminal_id))
    if result.diff is not None:
        content.append(diff_content(result.diff))
    for block in result.content:
        if isinstance(block, ImageRef):  # replayed from a stored session: read the blob back
            block = resolve_image(block)
        match block:
            case TextBlock(text=text):
                if text:
                    content.append({"type": "content", "content": text_block(text)})
            case ImageBlock(media_type=media_type, data=data):
                content.append({"type": "content", "content": {"type": "image", "mimeType": media_type, "data": data}})
            case _:
                assert_never(block)
    return content


def result_update(call_id: str, result: ToolResult, *, terminal_id: str | None) -> Update:
    update: Update = {
        "sessionUpdate": "tool_call_update",
        "toolCallId": call_id,
        "status": "failed" if result.is_error else "completed",
        "content": result_content(result, terminal_id=terminal_id),
    }
    update["rawOutput"] = thaw_json(result.raw_output) if result.raw_output is not None else {"output": result.text_content}
    return update


def status_update(call_id: str, status: str) -> Update:
    return {"sessionUpdate": "tool_call_update", "toolCallId": call_id, "status": status}


# ---------------------------------------------------------------- projector


@attrs.define
class _CallState:
    in_progress: bool = False
    terminal_id: str | None = None
    diff: DiffPreview | None = None
    output: str = ""


FINISHED_CALLS_KEPT = 256  # finished calls whose late (background) output can still be shown


class SessionProjector:
    """Maps one session's events to updates. ``config_options`` returns the
    session's current option list (for ``config_option_update``)."""

    def __init__(
        self,
        *,
        features: ClientFeatures,
        config_options: Callable[[], list[dict[str, Any]]],
        turn_origin: Callable[[str], TurnOrigin | None] = lambda _turn_id: None,
        client_id: str = "",
    ) -> None:
        self.features = features
        self._config_options = config_options
        self._turn_origin = turn_origin  # turn id -> who started it (for ``turns``)
        self.client_id = client_id  # the client this projector serves ("thisClient")
        self._calls: dict[str, _CallState] = {}
        # Calls that finished but may still report (a background task started by
        # the call): their result content, to which later output is appended.
        self._finished: dict[str, tuple[list[dict[str, Any]], _CallState]] = {}
        self._compaction_seq = 0
        self._compaction_id: str | None = None
        self._message_ids: dict[str, str] = {}  # chunk kind -> messageId of the response streaming now

    def message_id(self, kind: str) -> str:
        """The ``messageId`` of the response streaming now, for chunks of ``kind``
        (a response's text and its thoughts are two messages)."""
        return self._message_ids.get(kind) or self._message_ids.setdefault(kind, new_id("msg"))

    def _chunk(self, kind: str, text: str) -> list[Update]:
        return [content_chunk(kind, text, self.message_id(kind))] if text else []

    def project(self, event: AgentEvent) -> list[Update]:
        match event:
            case AssistantTextDelta(text=text):
                return self._chunk("agent_message_chunk", text)
            case ThoughtDelta(text=text):
                return self._chunk("agent_thought_chunk", text)
            case ToolCallStarted():
                self._calls[event.call_id] = _CallState(diff=event.diff)
                return [
                    tool_call_json(
                        event.call_id,
                        name=event.name,
                        title=event.title,
                        kind=event.kind,
                        raw_input=event.raw_input,
                        locations=event.locations,
                        diff=event.diff,
                    )
                ]
            case PermissionResolved(call_id=call_id, allowed=allowed):
                # Only announced calls start (a linked attachment's ask has no tool call).
                return self._start(call_id) if allowed and call_id in self._calls else []
            case ToolCallProgress():
                return self._progress(event)
            case ToolCallFinished():
                return self._finish(event)
            case PlanUpdated(entries=entries):
                return [plan_update(entries)]
            case LlmCallFinished():
                self._message_ids.clear()  # the next response is a new message
                return [self._usage(event)]
            case TitleChanged(title=title):
                return [{"sessionUpdate": "session_info_update", "title": title}]
            case ModeChanged(mode=mode):
                return [
                    {"sessionUpdate": "current_mode_update", "currentModeId": mode},
                    {"sessionUpdate": "config_option_update", "configOptions": self._config_options()},
                ]
            case ModelChanged():
                return [{"sessionUpdate": "config_option_update", "configOptions": self._config_options()}]
            case Notice(level=level, text=text):
                return self._notice(level, text, must_see=level in ("warning", "error"))
            case SavingStopped(reason=reason):
                return self._notice("error", f"{reason}. The rest of this session will not be saved.", must_see=True)
            case RetryScheduled():
                return self._notice(
                    "warning",
                    f"Retrying the model request ({event.attempt}/{event.max_attempts}) in {event.delay_s:.1f}s",
                    event.reason,
                )
            case CompactionStarted(reason=reason):
                return self._compaction_started(reason)
            case ContextCompressed():
                return self._compaction_done(event)
            case TurnStarted(turn_id=turn_id):
                return self._turn(turn_id, "running")
            case TurnEnded(turn_id=turn_id, stop_reason=stop, usage=usage):
                return self._turn(turn_id, "ended", stopReason=stop.value, usage=usage_json(usage))
            case TurnAborted(turn_id=turn_id, error=error):
                return [*self._notice("error", "The turn failed", error), *self._turn(turn_id, "ended", error=error)]
            case McpServerStatus(server=server, state=state, tool_count=count, error=error, stderr_tail=tail):
                if state == "ready":
                    return self._notice("info", f"MCP server {server} is ready ({count} tools)")
                if state in ("failed", "crashed"):
                    detail = "\n".join(filter(None, [error, *tail[-5:]]))
                    level = "error" if state == "failed" else "warning"
                    return self._notice(level, f"MCP server {server} {state}", detail or None, must_see=True)
                return self._notice("info", f"MCP server {server} is {state}")
            case MessageAppended(message=AssistantMessage() as message) if message.citations:
                # The answer's web sources, after its text, as links in the same message.
                message_id = self.message_id("agent_message_chunk")
                return [source_chunk(citation, message_id) for citation in message.citations]
            case (
                PromptCommitted()
                | MessageAppended()
                | HistoryRolledBack()
                | PermissionRequested()
                | BackgroundTaskFinished()
                | UsageCharged()
            ):
                # Permission requests are JSON-RPC requests, not updates (the
                # server sends them); the rest has no ACP counterpart.
                return []
            case _:
                assert_never(event)

    def _turn(self, turn_id: str, state: str, **end: Any) -> list[Update]:
        if not self.features.turns:
            return []
        return [turn_update(turn_id, state, self._turn_origin(turn_id), own_id=self.client_id, **end)]

    def _start(self, call_id: str) -> list[Update]:
        state = self._calls.setdefault(call_id, _CallState())
        if state.in_progress:
            return []
        state.in_progress = True
        return [status_update(call_id, "in_progress")]

    def _progress(self, event: ToolCallProgress) -> list[Update]:
        if event.call_id in self._finished:
            return self._late_progress(event)
        updates = self._start(event.call_id)
        state = self._calls[event.call_id]
        changed = False
        if event.terminal_id is not None and state.terminal_id != event.terminal_id:
            state.terminal_id = event.terminal_id
            changed = True
        if event.text and state.terminal_id is None:
            # A delegated terminal shows its own output; only local runs stream text here.
            state.output = (state.output + event.text)[-PROGRESS_TEXT_MAX_CHARS:]
            changed = True
        if changed:
            content: list[dict[str, Any]] = []
            if state.terminal_id is not None:
                content.append(terminal_content(state.terminal_id))
            elif state.output:
                content.append({"type": "content", "content": text_block(state.output)})
            updates.append({"sessionUpdate": "tool_call_update", "toolCallId": event.call_id, "content": content})
        return updates

    def _finish(self, event: ToolCallFinished) -> list[Update]:
        state = self._calls.pop(event.call_id, _CallState())
        updates: list[Update] = []
        if not state.in_progress and not event.result.is_error:
            updates.append(status_update(event.call_id, "in_progress"))
        terminal_id = event.result.terminal_id or state.terminal_id
        final = result_update(event.call_id, event.result, terminal_id=terminal_id)
        updates.append(final)
        self._finished[event.call_id] = (list(final["content"]), _CallState())
        while len(self._finished) > FINISHED_CALLS_KEPT:
            self._finished.pop(next(iter(self._finished)))
        return updates

    def _late_progress(self, event: ToolCallProgress) -> list[Update]:
        """Output from work the call left running: the result stays, the output
        follows it; the status does not change."""
        content, state = self._finished[event.call_id]
        if not event.text:
            return []
        state.output = (state.output + event.text)[-PROGRESS_TEXT_MAX_CHARS:]
        later = {"type": "content", "content": text_block(state.output)}
        return [{"sessionUpdate": "tool_call_update", "toolCallId": event.call_id, "content": [*content, later]}]

    @staticmethod
    def _usage(event: LlmCallFinished) -> Update:
        return {
            "sessionUpdate": "usage_update",
            "used": max(0, event.context_used),
            "size": max(0, event.context_window),
            "cost": {"amount": float(event.session_cost_usd), "currency": COST_CURRENCY},
        }

    def _notice(self, level: str, title: str, description: str | None = None, *, must_see: bool = False) -> list[Update]:
        """A ``notice`` update; for a client without notices, what the user
        ``must_see`` (an error, a warning) becomes a line of the agent's message."""
        if not title:
            return []
        if not self.features.notices:
            if not must_see:
                return []
            text = f"{title}: {description.splitlines()[0]}" if description else title
            return [content_chunk("agent_message_chunk", f"\n\n**{level.capitalize()}:** {text}\n\n")]
        update: Update = {"sessionUpdate": "notice", "severity": level, "title": title}
        if description:
            update["description"] = description
        return [update]

    def _compaction_started(self, reason: str = "") -> list[Update]:
        if not self.features.compaction:
            # Clients without compaction updates still hear about it, briefly, before it runs.
            why = {"manual": "as asked", "overflow": "the model said the prompt was too long"}.get(
                reason, "to free context space"
            )
            return [content_chunk("agent_message_chunk", f"\n\n_Compacting the conversation {why}…_\n\n")]
        self._compaction_seq += 1
        self._compaction_id = f"compaction-{self._compaction_seq}"
        return [{"sessionUpdate": "compaction_update", "compactionId": self._compaction_id, "status": "in_progress"}]

    def _compaction_done(self, event: ContextCompressed) -> list[Update]:
        if not self.features.compaction:
            return []
        updates: list[Update] = []
        if self._compaction_id is None:
            updates.extend(self._compaction_started())
        update: Update = {"sessionUpdate": "compaction_update", "compactionId": self._compaction_id, "status": "completed"}
        if event.summary:
            update["summary"] = [text_block(event.summary)]
        updates.append(update)
        self._compaction_id = None
        return updates


# ------------------------------------------------------------------- replay

CallDescriber = Callable[[str, Mapping[str, Any]], tuple[str, ToolKind]]


def default_describe(name: str, raw_input: Mapping[str, Any]) -> tuple[str, ToolKind]:
    """A title from the call's first string argument; used when the tool is gone."""
    subject = next((v for v in raw_input.values() if isinstance(v, str)), None)
    if subject is None:
        return name, ToolKind.OTHER
    if len(subject) > REPLAY_TITLE_MAX_CHARS:
        subject = subject[: REPLAY_TITLE_MAX_CHARS - 1] + "…"
    return f"{name} {subject}", ToolKind.OTHER


def replay_updates(
    messages: Sequence[Message],
    *,
    plan: Sequence[PlanEntry] = (),
    describe: CallDescriber = default_describe,
) -> list[Update]:
    """The updates that show a stored conversation again, in order (``session/load``)."""
    updates: list[Update] = []
    for message in messages:
        first = len(updates)
        match message:
            case UserMessage(kind=kind, content=content):
                if kind is not MessageKind.PROMPT:
                    continue  # summaries, background outcomes and injected context were never typed
                for block in content:
                    updates.append(_user_block(block))
            case AssistantMessage(content=content):
                for block in content:
                    updates.extend(_assistant_block(block, describe))
                updates.extend(source_chunk(citation) for citation in message.citations)  # as shown live
            case ToolResultMessage(results=results):
                for result in results:
                    updates.append(_replayed_result(result))
            case _:
                assert_never(message)
        for update in updates[first:]:
            if update["sessionUpdate"] in CHUNK_KINDS:
                update["messageId"] = message.id
    if plan:
        updates.append(plan_update(plan))
    return updates


def _user_block(block: TextBlock | ImageBlock | ImageRef) -> Update:
    if isinstance(block, ImageRef):  # replayed from a stored session: the client gets the image itself
        block = resolve_image(block)
    match block:
        case TextBlock(text=text):
            return content_chunk("user_message_chunk", text)
        case ImageBlock(media_type=media_type, data=data):
            return {"sessionUpdate": "user_message_chunk", "content": {"type": "image", "mimeType": media_type, "data": data}}
        case _:
            assert_never(block)


def _assistant_block(block: TextBlock | ThinkingBlock | ToolUseBlock, describe: CallDescriber) -> list[Update]:
    match block:
        case TextBlock(text=text):
            return [content_chunk("agent_message_chunk", text)] if text else []
        case ThinkingBlock(text=text):
            return [content_chunk("agent_thought_chunk", text)] if text else []
        case ToolUseBlock(id=call_id, name=name, input=raw_input):
            title, kind = describe(name, raw_input)
            return [tool_call_json(call_id, name=name, title=title, kind=kind, raw_input=raw_input)]
        case _:
            assert_never(block)


def _replayed_result(result: ToolResultBlock) -> Update:
    tool_result = ToolResult(content=result.content, is_error=result.is_error)
    return result_update(result.tool_use_id, tool_result, terminal_id=None)

