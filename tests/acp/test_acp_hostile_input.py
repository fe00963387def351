"""Hostile JSON-RPC input never takes ``agent acp`` down.

End to end against the real ``agent acp`` process (echo provider): deeply
nested lines are refused with -32600 naming the limit, and the next request is
answered (the in-process connection case is in test_acp_jsonrpc.py). A hypothesis fuzz
feeds random and adversarial lines to one long-lived process and checks that
every line gets exactly one well-formed answer (none for notifications) and
that the process never exits.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentcore.bounded_json import MAX_JSON_DEPTH, JsonTooDeep, check_depth, loads_bounded

AGENT = Path(sys.executable).parent / "agent"
NO_ANSWER = object()  # "wait for no particular answer" (None is a valid JSON-RPC id)
ANSWER_TIMEOUT_S = 20.0  # generous: a cold 2-core CI machine under a parallel suite


def nested(depth: int, *, kind: str = "list") -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


def deep_request(depth: int, request_id: int = 7, kind: str = "list") -> bytes:
    return f'{{"jsonrpc":"2.0","id":{request_id},"method":"echo","params":[{nested(depth, kind=kind)}]}}\n'.encode()


# ----------------------------------------------------------------- the guard


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_loads_bounded_refuses_deep_input_without_recursion_error(depth: int) -> None:
    for kind in ("list", "dict"):
        with pytest.raises(JsonTooDeep) as caught:
            loads_bounded(nested(depth, kind=kind))
        assert caught.value.limit == MAX_JSON_DEPTH
        assert isinstance(caught.value, ValueError)


def test_loads_bounded_accepts_the_limit_exactly() -> None:
    assert loads_bounded(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="ab[{}]", max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet="k[{", max_size=2), inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, limit=st.integers(min_value=1, max_value=8))
def test_loads_bounded_refuses_exactly_what_nests_deeper_than_the_limit(value: Any, limit: int) -> None:
    """The bracket count lets small messages skip the walk; it never lets a deep
    one through (brackets inside strings only make the bound looser)."""
    text = json.dumps(value)
    for form in (text, text.encode()):
        if _depth(value) > limit:
            with pytest.raises(JsonTooDeep):
                loads_bounded(form, max_depth=limit)
        else:
            assert loads_bounded(form, max_depth=limit) == value


def test_check_depth_walks_without_recursion() -> None:
    value: Any = 1
    for _ in range(50_000):  # far past the interpreter's recursion limit
        value = [value]
    with pytest.raises(JsonTooDeep):
        check_depth(value)
    check_depth({"a": [1, {"b": (2, 3)}]}, 4)
    with pytest.raises(JsonTooDeep):
        check_depth({"a": [1, {"b": (2, 3)}]}, 3)


# ------------------------------------------------------------ the real process


class AcpProcess:
    """``agent acp`` with the echo provider, driven line by line with blocking I/O
    (hypothesis drives a synchronous test)."""

    def __init__(self, home: Path, cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env.update({"AGENTCORE_HOME": str(home), "AGENTCORE_PROVIDER": "echo"})
        self.proc = subprocess.Popen(
            # --no-bridge: the in-process agent's own reading of hostile lines
            [str(AGENT), "acp", "--no-bridge"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=cwd,
        )
        self._buffer = b""
        self._sentinels = 0

    def send(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line if line.endswith(b"\n") else line + b"\n")
        self.proc.stdin.flush()

    def read_message(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], ANSWER_TIMEOUT_S)
            assert ready, "agent acp stopped answering"
            chunk = os.read(fd, 65536)
            assert chunk, f"agent acp exited (code {self.proc.poll()})"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message = json.loads(line)
        assert message.get("jsonrpc") == "2.0", message
        return message

    def answers_until(self, wanted: Any) -> list[dict[str, Any]]:
        """Every message up to the answer to a fresh sentinel request and, when
        ``wanted`` is not NO_ANSWER, the answer with that id (requests run as tasks,
        so their answers may come in either order)."""
        self._sentinels += 1
        sentinel = f"sentinel-{self._sentinels}"
        self.send(json.dumps({"jsonrpc": "2.0", "id": sentinel, "method": "no/such_method"}).encode())
        seen: list[dict[str, Any]] = []
        sentinel_seen = False
        while not sentinel_seen or (wanted is not NO_ANSWER and not any(m.get("id", NO_ANSWER) == wanted for m in seen)):
            message = self.read_message()
            if message.get("id") == sentinel:
                assert message["error"]["code"] == -32601
                sentinel_seen = True
            else:
                seen.append(message)
        return seen

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=ANSWER_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def acp_process(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("hostile")
    (root / "work").mkdir()
    process = AcpProcess(root / "home", root / "work")
    yield process
    process.close()


def test_deep_first_line_does_not_kill_the_process(tmp_path: Path) -> None:
    """The first line takes a fast path (initialize before the runtime loads)."""
    (tmp_path / "work").mkdir()
    process = AcpProcess(tmp_path / "home", tmp_path / "work")
    try:
        process.send(deep_request(1_000, request_id=1))
        assert process.read_message()["error"]["code"] == -32600
        process.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "initialize",
                                 "params": {"protocolVersion": 1}}).encode())
        assert process.read_message()["result"]["protocolVersion"] == 1
        process.send(deep_request(1_000, request_id=3, kind="dict"))
        assert process.read_message()["error"]["code"] == -32600
        assert process.proc.poll() is None
    finally:
        process.close()


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
_json = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
_ids = st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=12), st.none(), st.booleans(), st.floats(allow_nan=False))
_methods = st.sampled_from(["initialize", "session/new", "session/prompt", "session/cancel", "session/load",
                            "no/such", "", "$/cancel_request", "authenticate", "session/set_mode"])
_unique = iter(range(10**9))


@st.composite
def _message_line(draw: st.DrawFn) -> bytes:
    message: dict[str, Any] = {"jsonrpc": draw(st.sampled_from(["2.0", "2.0", "1.0", None]))}
    if draw(st.booleans()):
        request_id = draw(_ids)
        # Valid ids are made unique so each answer can be told apart from earlier ones.
        valid = isinstance(request_id, str) or (isinstance(request_id, int) and not isinstance(request_id, bool))
        message["id"] = f"fz{next(_unique)}-{request_id}" if valid else request_id
    if draw(st.integers(0, 9)) > 0:
        message["method"] = draw(_methods)
    if draw(st.booleans()):
        message["params"] = draw(_json)
    return json.dumps(message).encode()


_adversarial = st.sampled_from([
    b"[" * 5_000, b"{" * 5_000, nested(2_000, kind="dict").encode(), deep_request(150).rstrip(b"\n"),
    b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1e999}}',
    b'{"jsonrpc":"2.0","id":"\\ud800","method":"no/such"}', b"\xff\xfe\x00", b"null", b"[]", b"123",
    b'{"jsonrpc":"2.0","id":2,"method":"x","params":[NaN]}', b'"\\ud83d"', b"{}",
])
_lines = st.one_of(_message_line(), _adversarial, st.binary(max_size=200).filter(lambda b: b"\n" not in b))


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def _expected(line: bytes) -> tuple[str, Any]:
    """What one line should get: ("answer", id) exactly one answer carrying that id
    (None included); ("none", _) no answer (a notification or a response); or
    ("inline", _) at most one refusal with a null id, sent before the next line is read."""
    try:
        message = json.loads(line, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return "inline", None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        if isinstance(message, dict) and _usable_id(message.get("id")):
            return "answer", message["id"]  # refused, but the id is echoed
        return "inline", None
    if "method" not in message:  # a response: taken, or refused once (echoing its id when usable)
        return "none", message.get("id")
    if "id" not in message:
        return "none", None
    if message["id"] is None or _usable_id(message["id"]):
        return "answer", message["id"]
    return "inline", None


def _usable_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(line=_lines)
def test_fuzzed_lines_get_one_answer_and_the_process_never_exits(acp_process: AcpProcess, line: bytes) -> None:
    if not line.strip():
        return  # blank lines are skipped by the framing, by design
    kind, wanted = _expected(line)
    acp_process.send(line)
    answers = acp_process.answers_until(wanted if kind == "answer" else NO_ANSWER)
    for answer in answers:
        assert ("result" in answer) != ("error" in answer), answer
        if "error" in answer:
            assert isinstance(answer["error"]["code"], int) and isinstance(answer["error"]["message"], str)
    ids = [answer.get("id") for answer in answers]
    if kind == "answer":
        assert ids == [wanted], answers  # exactly one answer, to this request
    elif kind == "none":
        assert ids in ([], [None], [wanted]), answers
    else:
        assert ids in ([], [None]), answers
    assert acp_process.proc.poll() is None
