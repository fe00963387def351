"""The vendors' official SDKs as the reference for what goes over the wire.

Invariant: a request body that a provider sends and an event that a loopback
fake emits pass these checks only if the vendor's own SDK types accept them,
and no key appears that the SDK does not know (typos and invented fields fail,
even where the SDK's response models would silently keep them as extras).

* request bodies (``TypedDict`` params, e.g. ``CompletionCreateParamsStreaming``)
  are walked against their annotations: every key known, every required key
  present, literals and scalar types right, unions matched arm by arm;
* events (pydantic models, e.g. ``ChatCompletionChunk``) are validated by the
  SDK and then walked for ``model_extra`` (unknown keys) at every depth.

The SDKs are test dependencies only (the ``test`` extra); agentcore never imports them.
"""

from __future__ import annotations

import collections.abc
import functools
import types
import typing
from typing import Any

import pydantic
import typing_extensions

_SCALARS: dict[type, tuple[type, ...]] = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}


class SdkMismatch(AssertionError):
    """The body or event is not what the vendor's SDK types describe."""


@functools.cache
def _hints(td: type) -> dict[str, Any]:
    return typing_extensions.get_type_hints(td, include_extras=True)


def _name(origin: Any) -> str:
    return str(getattr(origin, "_name", None) or getattr(origin, "__name__", ""))


def _strip(tp: Any) -> Any:
    """Drop Required / NotRequired / ReadOnly / Annotated wrappers."""
    for _ in range(4):
        origin = typing_extensions.get_origin(tp)
        if origin is typing.Annotated or _name(origin) in ("Required", "NotRequired", "ReadOnly"):
            tp = typing_extensions.get_args(tp)[0]
        else:
            break
    return tp


def _rank(errors: list[str], path: str) -> tuple[bool, int]:
    """Report the union arm that got furthest: errors inside the value beat a
    mismatch of the value itself (a list sent where a string also fits)."""
    shallow = all(e.startswith(f"{path}: expected") or " is not one of " in e for e in errors)
    return (shallow, len(errors))


def typed_errors(value: Any, tp: Any, path: str = "$") -> list[str]:
    """Why ``value`` does not fit the SDK annotation ``tp`` (empty: it fits)."""
    tp = _strip(tp)
    if tp is Any or tp is object:
        return []
    if tp is None or tp is type(None):
        return [] if value is None else [f"{path}: expected null, got {value!r:.60}"]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        best: list[str] | None = None
        for arm in args:
            errors = typed_errors(value, arm, path)
            if not errors:
                return []
            if best is None or _rank(errors, path) < _rank(best, path):
                best = errors
        return best or [f"{path}: no arm of {tp} fits"]
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r:.60} is not one of {args}"]
    if typing_extensions.is_typeddict(tp):
        return _typed_dict_errors(value, tp, path)
    if origin in (list, tuple, collections.abc.Iterable, collections.abc.Sequence, typing.List):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        inner = args[0] if args else Any
        return [e for i, item in enumerate(value) for e in typed_errors(item, inner, f"{path}[{i}]")]
    if origin in (dict, collections.abc.Mapping, typing.Dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        inner = args[1] if len(args) == 2 else Any
        return [e for k, v in value.items() for e in typed_errors(v, inner, f"{path}.{k}")]
    if isinstance(tp, type) and tp in _SCALARS:
        ok = isinstance(value, _SCALARS[tp]) and not (tp is not bool and isinstance(value, bool))
        return [] if ok else [f"{path}: expected {tp.__name__}, got {value!r:.60}"]
    return []  # files, dates and other types a JSON body never carries here


@functools.cache
def _required(td: type) -> frozenset[str]:
    """Required keys: ``__required_keys__`` misses ``Required[...]`` under
    ``from __future__ import annotations`` on Python 3.11, so the hints decide too."""
    marked = {k for k, hint in _hints(td).items() if _name(typing_extensions.get_origin(hint)) == "Required"}
    return frozenset(td.__required_keys__) | marked


def _typed_dict_errors(value: Any, td: type, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected an object ({td.__name__}), got {type(value).__name__}"]
    hints = _hints(td)
    errors = [f"{path}: unknown key {k!r} for {td.__name__}" for k in value if k not in hints]
    errors += [f"{path}: missing required key {k!r} of {td.__name__}" for k in _required(td) if k not in value]
    for key, item in value.items():
        if key in hints:
            errors += typed_errors(item, hints[key], f"{path}.{key}")
    return errors


def check_params(body: Any, td: type) -> None:
    """Raise :class:`SdkMismatch` unless ``body`` fits the SDK's params TypedDict."""
    errors = typed_errors(body, td)
    if errors:
        raise SdkMismatch(f"{td.__name__}: " + "; ".join(errors[:8]))


@functools.cache
def _adapter(tp: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(tp)


def _extras(model: Any, path: str) -> list[str]:
    out: list[str] = []
    if isinstance(model, pydantic.BaseModel):
        out += [f"{path}: unknown key {k!r} for {type(model).__name__}" for k in (model.model_extra or {})]
        for name in type(model).model_fields:
            out += _extras(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, (list, tuple)):
        for i, item in enumerate(model):
            out += _extras(item, f"{path}[{i}]")
    elif isinstance(model, dict):
        for k, item in model.items():
            out += _extras(item, f"{path}.{k}")
    return out


def check_event(obj: Any, tp: Any) -> Any:
    """Validate ``obj`` with the SDK model ``tp`` and reject unknown keys; returns the model."""
    try:
        model = _adapter(tp).validate_python(obj)
    except pydantic.ValidationError as exc:
        raise SdkMismatch(f"{getattr(tp, '__name__', tp)}: {exc}") from None
    extras = _extras(model, "$")
    if extras:
        raise SdkMismatch("; ".join(extras[:8]))
    return model


# --------------------------------------------------------- the vendors' types


def openai_chat_params() -> type:
    from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming

    return CompletionCreateParamsStreaming


def openai_responses_params() -> type:
    from openai.types.responses.response_create_params import ResponseCreateParamsStreaming

    return ResponseCreateParamsStreaming


def anthropic_params() -> type:
    from anthropic.types.message_create_params import MessageCreateParamsStreaming

    return MessageCreateParamsStreaming


def check_request(path: str, body: Any) -> None:
    """Check a recorded POST body by its endpoint; other paths are not vendor APIs."""
    path = path.split("?", 1)[0]
    if path.endswith("/chat/completions"):
        check_params(body, openai_chat_params())
    elif path.endswith("/responses"):
        check_params(body, openai_responses_params())
    elif path.endswith("/v1/messages"):
        check_params(body, anthropic_params())


def check_openai_chunk(obj: Any) -> None:
    from openai.types.chat import ChatCompletionChunk

    check_event(obj, ChatCompletionChunk)


def check_anthropic_event(obj: Any) -> None:
    from anthropic.types import ErrorResponse, RawMessageStreamEvent

    kind = obj.get("type") if isinstance(obj, dict) else None
    if kind == "ping":
        if obj != {"type": "ping"}:
            raise SdkMismatch(f"ping carries extra keys: {obj!r}")
        return
    check_event(obj, ErrorResponse if kind == "error" else RawMessageStreamEvent)


def check_responses_event(obj: Any) -> None:
    from openai.types.responses import ResponseStreamEvent

    check_event(obj, ResponseStreamEvent)


def check_realtime_server_event(obj: Any) -> None:
    from openai.types.realtime import RealtimeServerEvent

    check_event(obj, RealtimeServerEvent)


def check_realtime_client_event(obj: Any) -> None:
    from openai.types.realtime import RealtimeClientEventParam

    errors = typed_errors(obj, RealtimeClientEventParam)
    if errors:
        raise SdkMismatch("RealtimeClientEventParam: " + "; ".join(errors[:8]))


def check_gemini_server_message(obj: Any) -> None:
    from google.genai.types import LiveServerMessage  # extra="forbid": unknown keys fail

    check_event(obj, LiveServerMessage)


def check_gemini_client_message(obj: Any) -> None:
    from google.genai.types import LiveClientMessage

    check_event(obj, LiveClientMessage)
