"""read_file, write_file and edit_file against real files, including the
confinement rules every path goes through."""

from __future__ import annotations

import base64
import os
import time

from agentcore.messages import ImageBlock
from agentcore.tools.base import DiffPreview
from agentcore.tools.edit_file import EditFileTool
from agentcore.tools.paths import resolved_subject
from agentcore.tools.read_file import ReadFileTool
from agentcore.tools.workspace import Workspace
from agentcore.tools.write_file import WriteFileTool

READ, WRITE, EDIT = ReadFileTool(), WriteFileTool(), EditFileTool()
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


# ------------------------------------------------------------- confinement


async def test_dotdot_escape_is_an_error_result(ctx, ws):
    (ws.parent / "secret.txt").write_text("top secret")
    for tool, args in [
        (READ, {"path": "../secret.txt"}),
        (WRITE, {"path": "../secret.txt", "content": "x"}),
        (EDIT, {"path": "../secret.txt", "edits": [{"old_string": "top", "new_string": "x"}]}),
    ]:
        result = await tool.execute(args, ctx)
        assert result.is_error and "outside the workspace" in result.text_content
    assert (ws.parent / "secret.txt").read_text() == "top secret"


async def test_symlink_escape_is_refused(ctx, ws):
    outside = ws.parent / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text("private")
    (ws / "link.txt").symlink_to(outside / "data.txt")
    (ws / "linkdir").symlink_to(outside)
    for path in ("link.txt", "linkdir/data.txt"):
        result = await READ.execute({"path": path}, ctx)
        assert result.is_error and "outside the workspace" in result.text_content
        assert "private" not in result.text_content
    result = await WRITE.execute({"path": "linkdir/new.txt", "content": "x"}, ctx)
    assert result.is_error and not (outside / "new.txt").exists()


async def test_symlink_inside_workspace_is_followed(ctx, ws):
    (ws / "real.txt").write_text("hello\n")
    (ws / "alias.txt").symlink_to(ws / "real.txt")
    result = await READ.execute({"path": "alias.txt"}, ctx)
    assert not result.is_error and "hello" in result.text_content


async def test_additional_directories_are_allowed(make_ctx, ws, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "notes.md").write_text("extra notes\n")
    ctx = make_ctx(workspace=Workspace(ws, additional=[extra]))
    result = await READ.execute({"path": str(extra / "notes.md")}, ctx)
    assert "extra notes" in result.text_content


def test_permission_subjects():
    assert READ.permission_subject({"path": "./src/../src/.env"}) == "src/.env"
    assert WRITE.permission_subject({"path": "src/.env", "content": ""}) == "src/.env"
    assert EDIT.permission_subject({"path": "a/b.py", "edits": []}) == "a/b.py"
    assert READ.permission_subject({}) is None


def test_resolved_subject_follows_links(ws):
    (ws / "src").mkdir()
    (ws / "src" / ".env").write_text("KEY=1")
    (ws / "innocent").symlink_to(ws / "src" / ".env")
    assert resolved_subject(Workspace(ws), "innocent") == "src/.env"


# ---------------------------------------------------------------- read_file


async def test_read_numbers_lines_and_handles_crlf(ctx, ws):
    (ws / "a.txt").write_bytes(b"first\r\nsecond\r\n")
    result = await READ.execute({"path": "a.txt"}, ctx)
    assert result.text_content == "     1\tfirst\n     2\tsecond"


async def test_read_pages_with_offset_and_limit(ctx, ws):
    (ws / "n.txt").write_text("".join(f"line {i}\n" for i in range(1, 101)))
    result = await READ.execute({"path": "n.txt", "offset": 10, "limit": 5}, ctx)
    lines = result.text_content.splitlines()
    assert lines[0] == "    10\tline 10" and lines[4] == "    14\tline 14"
    assert "offset=15" in result.text_content
    last = await READ.execute({"path": "n.txt", "offset": 99}, ctx)
    assert "line 100" in last.text_content and "offset=" not in last.text_content
    past = await READ.execute({"path": "n.txt", "offset": 500}, ctx)
    assert past.is_error and "100 lines" in past.text_content


async def test_huge_file_first_page_is_cut_with_next_offset_and_fast(make_ctx, ws):
    line = "x" * 99 + "\n"
    (ws / "big.log").write_text(line * 100_000)  # 10 MB
    tool = ReadFileTool()
    start = time.perf_counter()
    result = await tool.execute({"path": "big.log"}, make_ctx())
    elapsed = time.perf_counter() - start
    body = result.text_content
    assert body.count("\n") >= 2000 and "  2000\t" in body and "  2001\t" not in body
    assert "offset=2001" in body
    assert elapsed < 1.0  # generous here; bench/bench_tools.py measures the real number


async def test_byte_budget_cuts_page(ws, make_ctx):
    (ws / "wide.txt").write_text(("y" * 1000 + "\n") * 600)
    result = await ReadFileTool(max_bytes=256 * 1024).execute({"path": "wide.txt"}, make_ctx())
    shown = [ln for ln in result.text_content.splitlines() if "\t" in ln]
    assert 200 < len(shown) < 600 and "KiB page limit" in result.text_content


async def test_long_lines_are_shortened(ctx, ws):
    (ws / "min.js").write_text("a" * 50_000 + "\nshort\n")
    result = await READ.execute({"path": "min.js"}, ctx)
    first = result.text_content.splitlines()[0]
    assert len(first) == len("     1\t") + 2000
    assert "shortened" in result.text_content and "     2\tshort" in result.text_content


async def test_binary_is_refused(ctx, ws):
    (ws / "blob.bin").write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    result = await READ.execute({"path": "blob.bin"}, ctx)
    assert result.is_error and "binary" in result.text_content


async def test_image_is_returned_as_image_block(ctx, ws):
    (ws / "dot.png").write_bytes(PNG_1PX)
    result = await READ.execute({"path": "dot.png"}, ctx)
    images = [b for b in result.content if isinstance(b, ImageBlock)]
    assert len(images) == 1 and images[0].media_type == "image/png"
    assert base64.b64decode(images[0].data) == PNG_1PX


async def test_non_utf8_is_replaced_with_note(ctx, ws):
    (ws / "latin.txt").write_bytes("café\n".encode("latin-1"))
    result = await READ.execute({"path": "latin.txt"}, ctx)
    assert "caf\ufffd" in result.text_content and "not valid UTF-8" in result.text_content


async def test_missing_file_and_directory(ctx, ws):
    (ws / "d").mkdir()
    assert "does not exist" in (await READ.execute({"path": "nope.txt"}, ctx)).text_content
    assert "is a directory" in (await READ.execute({"path": "d"}, ctx)).text_content


async def test_empty_file(ctx, ws):
    (ws / "e.txt").write_text("")
    result = await READ.execute({"path": "e.txt"}, ctx)
    assert not result.is_error and "empty" in result.text_content


async def test_spilled_output_outside_workspace_is_readable(ctx):
    ctx.spill_dir.mkdir(parents=True)
    spilled = ctx.spill_dir / "output-1.txt"
    spilled.write_text("full output\n")
    result = await READ.execute({"path": str(spilled)}, ctx)
    assert not result.is_error and "full output" in result.text_content


# --------------------------------------------------------------- write_file


async def test_write_creates_parents_and_reports(ctx, ws):
    result = await WRITE.execute({"path": "deep/er/new.py", "content": "print(1)\n"}, ctx)
    assert not result.is_error and "Created" in result.text_content
    assert (ws / "deep/er/new.py").read_text() == "print(1)\n"
    assert result.diff == DiffPreview(str(ws / "deep/er/new.py"), None, "print(1)\n")


async def test_write_describe_shows_diff_against_old(ctx, ws):
    (ws / "f.txt").write_text("old\n")
    description = await WRITE.describe({"path": "f.txt", "content": "new\n"}, ctx)
    assert description.diff == DiffPreview(str(ws / "f.txt"), "old\n", "new\n")
    assert description.kind.value == "edit"
    assert (ws / "f.txt").read_text() == "old\n"  # describing changes nothing


async def test_write_keeps_crlf_and_mode(ctx, ws):
    target = ws / "win.bat"
    target.write_bytes(b"@echo off\r\necho hi\r\n")
    os.chmod(target, 0o755)
    await WRITE.execute({"path": "win.bat", "content": "@echo off\necho bye\n"}, ctx)
    assert target.read_bytes() == b"@echo off\r\necho bye\r\n"
    assert os.stat(target).st_mode & 0o777 == 0o755


# ---------------------------------------------------------------- edit_file


async def test_edit_applies_and_returns_diff(ctx, ws):
    (ws / "m.py").write_text("def f():\n    return 1\n")
    result = await EDIT.execute({"path": "m.py", "edits": [{"old_string": "return 1", "new_string": "return 2"}]}, ctx)
    assert not result.is_error
    assert (ws / "m.py").read_text() == "def f():\n    return 2\n"
    assert "-    return 1\n+    return 2" in result.text_content
    assert result.diff == DiffPreview(str(ws / "m.py"), "def f():\n    return 1\n", "def f():\n    return 2\n")


async def test_edit_crlf_round_trip(ctx, ws):
    (ws / "w.txt").write_bytes(b"alpha\r\nbeta\r\ngamma\r\n")
    result = await EDIT.execute(
        {"path": "w.txt", "edits": [{"old_string": "alpha\nbeta", "new_string": "alpha\nBETA\nextra"}]}, ctx
    )
    assert not result.is_error, result.text_content
    assert (ws / "w.txt").read_bytes() == b"alpha\r\nBETA\r\nextra\r\ngamma\r\n"


async def test_multi_edit_is_atomic(ctx, ws):
    original = "one\ntwo\nthree\n"
    (ws / "t.txt").write_text(original)
    result = await EDIT.execute(
        {
            "path": "t.txt",
            "edits": [
                {"old_string": "one", "new_string": "ONE"},
                {"old_string": "missing", "new_string": "x"},
            ],
        },
        ctx,
    )
    assert result.is_error and "No changes were made" in result.text_content and "edit 2 of 2" in result.text_content
    assert (ws / "t.txt").read_text() == original


async def test_sequential_edits_see_earlier_results(ctx, ws):
    (ws / "s.txt").write_text("a\n")
    result = await EDIT.execute(
        {"path": "s.txt", "edits": [{"old_string": "a", "new_string": "b"}, {"old_string": "b", "new_string": "c"}]},
        ctx,
    )
    assert not result.is_error and (ws / "s.txt").read_text() == "c\n"


async def test_ambiguous_match_lists_lines(ctx, ws):
    (ws / "dup.py").write_text("x = 1\ny = 2\nx = 1\n")
    result = await EDIT.execute({"path": "dup.py", "edits": [{"old_string": "x = 1", "new_string": "x = 3"}]}, ctx)
    assert result.is_error and "matches 2 places" in result.text_content and "lines 1, 3" in result.text_content
    assert "replace_all" in result.text_content
    fixed = await EDIT.execute(
        {"path": "dup.py", "edits": [{"old_string": "x = 1", "new_string": "x = 3", "replace_all": True}]}, ctx
    )
    assert not fixed.is_error and (ws / "dup.py").read_text() == "x = 3\ny = 2\nx = 3\n"


async def test_not_found_shows_closest_candidate(ctx, ws):
    (ws / "c.py").write_text("import os\n\ndef handler(event):\n    return event\n")
    result = await EDIT.execute(
        {"path": "c.py", "edits": [{"old_string": "def handler(evnt):", "new_string": "def h(e):"}]}, ctx
    )
    assert result.is_error and "not found" in result.text_content
    assert "     3\tdef handler(event):" in result.text_content


async def test_line_number_prefix_hint(ctx, ws):
    (ws / "p.py").write_text("a = 1\nb = 2\n")
    result = await EDIT.execute(
        {"path": "p.py", "edits": [{"old_string": "     1\ta = 1", "new_string": "a = 5"}]}, ctx
    )
    assert result.is_error and "line-number prefixes" in result.text_content


async def test_edit_describe_previews_without_writing(ctx, ws):
    (ws / "d.txt").write_text("keep\nchange\n")
    description = await EDIT.describe(
        {"path": "d.txt", "edits": [{"old_string": "change", "new_string": "changed"}]}, ctx
    )
    assert description.diff == DiffPreview(str(ws / "d.txt"), "keep\nchange\n", "keep\nchanged\n")
    assert description.locations[0].line == 2
    assert (ws / "d.txt").read_text() == "keep\nchange\n"


async def test_edit_refuses_non_utf8(ctx, ws):
    (ws / "l1.txt").write_bytes("café\n".encode("latin-1"))
    result = await EDIT.execute({"path": "l1.txt", "edits": [{"old_string": "caf", "new_string": "x"}]}, ctx)
    assert result.is_error and "UTF-8" in result.text_content
