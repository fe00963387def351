"""grep and glob never show what a deny rule hides, and say how many files they skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentcore import SessionCreateInfo
from agentcore.tools.base import ToolProgress
from agentcore.tools.search import GlobTool, GrepTool
from deny_support import RG, RoutedProvider, build_core, engines, first_turn, marker, profile_policy, rules, text_reply, tool_reply, tool_results

pytestmark = pytest.mark.parametrize("engine", engines())


async def _no_progress(_: ToolProgress) -> None:
    return None


async def _run(tmp_path: Path, work: Path, deny: tuple[str, ...], tool: object, args: dict) -> object:
    """Run ``tool`` with the tool context of a real session that has these deny rules."""
    provider = RoutedProvider({})
    core = build_core(provider, tmp_path / "state", {"main": profile_policy("main", rules=rules(deny=deny))})
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        return await tool.execute(args, session.tool_context("call_1", _no_progress))


@pytest.mark.parametrize("rule", ["read_file(**/.env)", "*(**/.env)"])
async def test_grep_skips_files_a_rule_denies_and_counts_them(tmp_path, work, secret, engine, rule) -> None:
    result = await _run(tmp_path, work, (rule,), GrepTool(engine=engine, rg_path=RG), {"pattern": "API_TOKEN"})
    text = result.text_content
    assert secret not in text and ".env:" not in text and "\n.env" not in text
    assert "README.md" in text and "secrets/key.txt" in text  # the rest is still searched
    assert "2 files were skipped: a permission rule denies them" in text
    assert result.raw_output["skipped"] == 2


async def test_the_skip_count_does_not_depend_on_what_denied_files_contain(tmp_path, work, engine) -> None:
    # A pattern only the denied file contains: the answer must not reveal that it matched.
    result = await _run(tmp_path, work, ("read_file(**/.env)",), GrepTool(engine=engine, rg_path=RG), {"pattern": "zzz-nowhere"})
    assert result.text_content.startswith("No matches")
    assert "2 files were skipped" in result.text_content


async def test_grep_of_a_denied_file_named_directly_reads_nothing(tmp_path, work, secret, engine) -> None:
    result = await _run(
        tmp_path, work, ("read_file(**/.env)",), GrepTool(engine=engine, rg_path=RG), {"pattern": "API", "path": ".env"}
    )
    assert secret not in result.text_content
    assert "1 file was skipped: a permission rule denies it" in result.text_content


async def test_grep_with_an_include_glob_still_skips(tmp_path, work, secret, engine) -> None:
    args = {"pattern": "API", "glob": ".env", "output_mode": "files"}
    result = await _run(tmp_path, work, ("*(**/.env)",), GrepTool(engine=engine, rg_path=RG), args)
    assert secret not in result.text_content and ".env" not in result.text_content.split("[")[0]
    assert "2 files were skipped" in result.text_content


async def test_a_grep_rule_on_a_directory_hides_it_from_a_workspace_wide_grep(tmp_path, work, key_file_value, engine) -> None:
    result = await _run(tmp_path, work, ("grep(secrets/**)",), GrepTool(engine=engine, rg_path=RG), {"pattern": "API_TOKEN"})
    assert key_file_value not in result.text_content and "secrets/key.txt" not in result.text_content
    assert "1 file was skipped" in result.text_content


async def test_a_symlink_to_a_denied_file_is_not_followed_into_it(tmp_path, work, secret, engine) -> None:
    (work / "innocent.txt").symlink_to(work / ".env")
    for args in ({"pattern": "API_TOKEN"}, {"pattern": "API_TOKEN", "path": "innocent.txt"}):
        result = await _run(tmp_path, work, ("read_file(**/.env)",), GrepTool(engine=engine, rg_path=RG), args)
        assert secret not in result.text_content, args


async def test_a_hard_link_to_a_denied_file_is_denied_too(tmp_path, work, secret, engine) -> None:
    os.link(work / ".env", work / "copy.txt")
    result = await _run(tmp_path, work, ("read_file(**/.env)",), GrepTool(engine=engine, rg_path=RG), {"pattern": "API_TOKEN"})
    assert secret not in result.text_content and "copy.txt" not in result.text_content


async def test_glob_does_not_list_denied_files_and_counts_them(tmp_path, work, engine) -> None:
    result = await _run(tmp_path, work, ("read_file(**/.env)",), GlobTool(engine=engine, rg_path=RG), {"pattern": "**"})
    listed = result.text_content.split("\n\n[")[0].splitlines()
    assert ".env" not in listed and "src/.env" not in listed
    assert "README.md" in listed and "src/app.py" in listed
    assert "2 files were skipped: a permission rule denies them" in result.text_content
    only = await _run(tmp_path, work, ("read_file(**/.env)",), GlobTool(engine=engine, rg_path=RG), {"pattern": "**/.env"})
    assert only.text_content.startswith("No files match") and "2 files were skipped" in only.text_content


async def test_through_a_turn_the_model_never_sees_denied_contents(tmp_path, work, secret, engine) -> None:
    def main(request):
        if first_turn(request):
            return tool_reply(("g1", "grep", {"pattern": "API_TOKEN"}), ("g2", "glob", {"pattern": "**/.env"}))
        return text_reply("done")

    provider = RoutedProvider({marker("main"): main})
    core = build_core(provider, tmp_path / "state", {"main": profile_policy("main", rules=rules(deny=["read_file(**/.env)"]))})
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        await session.run_turn("find the token")
    grep_text, glob_text = tool_results(provider.requests[-1])
    assert "2 files were skipped" in grep_text and "2 files were skipped" in glob_text
    assert secret not in provider.seen_by_model()
