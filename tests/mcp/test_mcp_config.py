"""Server specs from config and .mcp.json; their layering with the session's own
list; tool naming and safety. (ACP mcpServers entries: tests/acp/test_acp_mcp.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from agentcore.mcp import RestartPolicy
from agentcore.mcp.spec import McpConfigError, McpServerSpec, Transport, merge_layers, read_mcp_json, session_specs
from agentcore.mcp.tools import TOOL_NAME_MAX, assign_names, safety_for, tool_name
from agentcore.config.settings import McpServerConfig, McpSettings, Settings
from agentcore.tools.base import Safety

VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_mcp_json_with_env_expansion(tmp_path: Path) -> None:
    path = tmp_path / ".mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "local": {"command": "npx", "args": ["-y", "pkg", "${ROOT:-/srv}"], "env": {"KEY": "${SECRET}"}},
                    "remote": {"type": "http", "url": "https://h/mcp", "headers": {"Authorization": "Bearer ${SECRET}"}},
                    "off": {"command": "x", "disabled": True, "autoApprove": []},
                }
            }
        )
    )
    local, remote, off = read_mcp_json(path, env={"SECRET": "s3"})
    assert local.args == ("-y", "pkg", "/srv") and dict(local.env) == {"KEY": "s3"}
    assert remote.transport is Transport.HTTP and dict(remote.headers) == {"Authorization": "Bearer s3"}
    assert not off.enabled
    assert read_mcp_json(tmp_path / "absent.json") == []


def test_mcp_json_errors_name_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / ".mcp.json"
    path.write_text('{"mcpServers": {"a": {"command": "x", "env": {"K": "${MISSING}"}}}}')
    with pytest.raises(McpConfigError, match=r"\.mcp\.json: mcpServers\.a\.env\.K: environment variable MISSING"):
        read_mcp_json(path, env={})
    path.write_text('{"mcpServers": {"a": {"command": ["x"]}}}')
    with pytest.raises(McpConfigError, match=r"mcpServers\.a\.command: expected a non-empty string"):
        read_mcp_json(path)
    path.write_text("{not json")
    with pytest.raises(McpConfigError, match="not valid JSON"):
        read_mcp_json(path)


def test_layers_later_wins_and_disabled_drops() -> None:
    first = McpServerSpec(name="a", transport=Transport.STDIO, command="one")
    second = McpServerSpec(name="a", transport=Transport.STDIO, command="two")
    other = McpServerSpec(name="b", transport=Transport.STDIO, command="b")
    off = McpServerSpec(name="b", transport=Transport.STDIO, command="b", enabled=False)
    assert merge_layers([[first, other], [second]]) == (second, other)
    assert merge_layers([[first, other], [off]]) == (first,)


def test_session_specs_reads_config_mcp_json_profile_and_acp(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"shared": {"command": "from-json"}, "json_only": {"command": "j"}}})
    )
    configured = {
        "shared": McpServerConfig(name="shared", command="from-config"),
        "cfg_only": McpServerConfig(name="cfg_only", url="https://c/mcp", transport="http", tool_timeout_s=5.0),
    }
    session = SimpleNamespace(
        cwd=tmp_path,
        policy=SimpleNamespace(settings=Settings(mcp=McpSettings(servers=configured))),
        info=SimpleNamespace(mcp_servers=(McpServerSpec(name="json_only", transport=Transport.STDIO, command="from-acp"),)),
    )
    specs = {s.name: s for s in session_specs(session, env={}, project_trusted=True)}
    assert specs["shared"].command == "from-json"  # .mcp.json over the config files
    assert specs["json_only"].command == "from-acp"  # ACP over everything
    assert specs["cfg_only"].tool_timeout_s == 5.0 and specs["cfg_only"].transport is Transport.HTTP
    profile = {"shared": McpServerConfig(name="shared", command="from-profile")}
    assert {s.name: s for s in session_specs(session, env={}, profile_servers=profile, project_trusted=True)}[
        "shared"].command == "from-profile"
    # An untrusted folder's .mcp.json starts nothing (the default).
    assert "from-json" not in {s.command for s in session_specs(session, env={})}
    # The runtime takes specs only: wire shapes are converted by the frontend that received them.
    session.info = SimpleNamespace(mcp_servers=({"name": "raw", "command": "x"},))
    with pytest.raises(McpConfigError, match="SessionCreateInfo: mcp_servers: expected McpServerSpec values, got dict"):
        session_specs(session, env={})


def test_tool_names_are_valid_deterministic_and_distinct() -> None:
    assert tool_name("github", "create_issue") == "mcp__github__create_issue"
    assert tool_name("my.server", "do it!") == "mcp__my_server__do_it_"
    long = tool_name("a-very-long-server-name", "and_an_even_longer_tool_name_that_goes_on_and_on")
    assert VALID_NAME.match(long) and len(long) == TOOL_NAME_MAX
    assert long == tool_name("a-very-long-server-name", "and_an_even_longer_tool_name_that_goes_on_and_on")
    names = assign_names("s", ["a.b", "a_b", "plain"])
    assert names["plain"] == "mcp__s__plain"
    assert names["a.b"] != names["a_b"] and all(VALID_NAME.match(n) for n in names.values())
    assert assign_names("s", ["a_b", "a.b", "plain"]) == names  # order does not matter


def test_safety_from_annotations() -> None:
    def hints(**kw):
        return SimpleNamespace(**{"read_only_hint": None, "destructive_hint": None, "open_world_hint": None, **kw})

    assert safety_for(None) is Safety.MUTATING
    # readOnlyHint lifts the restriction only when the user trusts the server's annotations.
    assert safety_for(hints(read_only_hint=True)) is Safety.MUTATING
    assert safety_for(hints(read_only_hint=True, open_world_hint=True)) is Safety.NETWORK
    assert safety_for(hints(read_only_hint=True, open_world_hint=True), trust_annotations=True) is Safety.READ_ONLY
    assert safety_for(hints(read_only_hint=True, destructive_hint=True), trust_annotations=True) is Safety.DESTRUCTIVE
    assert safety_for(hints(destructive_hint=True)) is Safety.DESTRUCTIVE
    assert safety_for(hints(open_world_hint=True)) is Safety.NETWORK
    assert safety_for(hints(destructive_hint=False)) is Safety.MUTATING


def test_restart_backoff_grows_and_is_capped() -> None:
    policy = RestartPolicy(backoff_s=0.5, backoff_max_s=1.5)
    assert [policy.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 1.5]
