"""glob and grep: .gitignore rules, binaries, ordering, and ripgrep and pure
Python giving the very same answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentcore.tools.search import GlobTool, GrepTool, SearchEngine
from agentcore.tools.search_engine import GrepQuery, python_grep, ripgrep_grep
from agentcore.tools.walk import expand_braces, glob_to_regex

HAS_RG = shutil.which("rg") is not None
needs_rg = pytest.mark.skipif(not HAS_RG, reason="ripgrep (apt package 'ripgrep') is not installed")
ENGINES = [
    pytest.param(SearchEngine.PYTHON, id="python"),
    pytest.param(SearchEngine.RIPGREP, id="ripgrep", marks=needs_rg),
]


def build_tree(root: Path) -> None:
    files = {
        ".gitignore": "*.log\nbuild/\n!keep.log\n/top_only.txt\n",
        "README.md": "hello world\nTODO: docs\n",
        "top_only.txt": "hello ignored at top\n",
        "app.log": "hello from a log\n",
        "keep.log": "hello kept log\n",
        "build/out.txt": "hello build\n",
        "src/main.py": "import os\n\ndef hello():\n    return 'Hello'\n# TODO refactor\n",
        "src/util.py": "def helper():\n    pass\n",
        "src/top_only.txt": "hello nested same name\n",
        "src/.gitignore": "generated/\n*.tmp\n",
        "src/generated/gen.py": "hello generated\n",
        "src/scratch.tmp": "hello tmp\n",
        "src/deep/er/leaf.ts": "export const hello = 1;\n",
        "src/deep/er/leaf.tsx": "export const Hello = () => null;\n",
        "a-c/file.txt": "hello dash\n",
        "a/b.txt": "hello slash\n",
        ".hidden/conf.yml": "hello: hidden\n",
        "crlf.txt": "one\r\nhello crlf\r\n",
        "docs/guide.md": "".join(f"line {i}\n" for i in range(1, 21)) + "hello docs\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, newline="")
    (root / "blob.bin").write_bytes(b"hello\x00binary")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("hello git internals\n")
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "o.txt").write_text("hello outside\n")
    (root / "escape").symlink_to(outside)
    (root / "escape.txt").symlink_to(outside / "o.txt")


@pytest.fixture
def tree(ws: Path) -> Path:
    build_tree(ws)
    return ws


@pytest.mark.parametrize("engine", ENGINES)
async def test_grep_respects_gitignore_and_skips_binaries(tree, ctx, engine):
    result = await GrepTool(engine=engine).execute({"pattern": "hello", "output_mode": "files"}, ctx)
    files = [line.rsplit(" (", 1)[0] for line in result.text_content.splitlines()[2:]]
    assert files == [
        ".hidden/conf.yml",
        "README.md",
        "a/b.txt",
        "a-c/file.txt",
        "crlf.txt",
        "docs/guide.md",
        "keep.log",
        "src/deep/er/leaf.ts",
        "src/main.py",
        "src/top_only.txt",
    ]


@pytest.mark.parametrize("engine", ENGINES)
async def test_grep_content_format(tree, ctx, engine):
    result = await GrepTool(engine=engine).execute(
        {"pattern": "hello", "path": "src", "case_insensitive": True, "context": 1}, ctx
    )
    text = result.text_content
    assert text.startswith("Found 5 matching lines in 4 files.")
    assert "src/main.py\n2-\n3:def hello():\n4:    return 'Hello'\n5-# TODO refactor" in text
    assert "src/deep/er/leaf.tsx\n1:export const Hello = () => null;" in text


@pytest.mark.parametrize("engine", ENGINES)
async def test_grep_truncation_gives_counts(tree, ctx, engine):
    result = await GrepTool(engine=engine).execute({"pattern": "line \\d+", "max_results": 3}, ctx)
    text = result.text_content
    assert "Found 20 matching lines in 1 files. Showing 3 lines" in text
    assert "3:line 3" in text and "4:line 4" not in text


@pytest.mark.parametrize("engine", ENGINES)
async def test_grep_glob_filter_and_single_file(tree, ctx, engine):
    tool = GrepTool(engine=engine)
    result = await tool.execute({"pattern": "hello", "glob": "*.{ts,tsx}", "case_insensitive": True}, ctx)
    assert "src/deep/er/leaf.ts\n" in result.text_content and "src/deep/er/leaf.tsx" in result.text_content
    assert "main.py" not in result.text_content
    single = await tool.execute({"pattern": "crlf$", "path": "crlf.txt"}, ctx)
    # ripgrep semantics: "$" does not match before "\r" (no --crlf), and Python agrees.
    assert single.text_content.startswith("No matches")
    plain = await tool.execute({"pattern": "hello crlf", "path": "crlf.txt"}, ctx)
    assert "crlf.txt\n2:hello crlf" in plain.text_content


@needs_rg
@pytest.mark.parametrize(
    "query",
    [
        GrepQuery("hello"),
        GrepQuery("HELLO", case_insensitive=True),
        GrepQuery("def \\w+", context=2),
        GrepQuery("hello", glob="*.py"),
        GrepQuery("hello", glob="src/**"),
        GrepQuery("^line [0-9]+$", context=1),
        GrepQuery("TODO|hidden"),
        GrepQuery("hello", glob="*.log"),  # an explicit glob reaches ignored files, as in ripgrep
        GrepQuery("hello", glob="!*.md"),
        GrepQuery("hello", glob="*.{ts,tsx}", case_insensitive=True),
    ],
)
async def test_ripgrep_and_python_give_identical_hits(tree, query):
    python = python_grep(tree, query)
    ripgrep = await ripgrep_grep(shutil.which("rg"), tree, query)
    assert python == ripgrep
    assert python.files  # every query finds something, so the comparison means something


@needs_rg
async def test_explicit_glob_reaches_ignored_files(tree):
    hits = python_grep(tree, GrepQuery("hello", glob="*.log"))
    assert [f.path for f in hits.files] == ["app.log", "keep.log"]


@needs_rg
async def test_subdirectory_search_sees_parent_gitignore(tree):
    (tree / "src" / "x.log").write_text("hello sub log\n")
    query = GrepQuery("hello")
    python = python_grep(tree / "src", query)
    ripgrep = await ripgrep_grep(shutil.which("rg"), tree / "src", query)
    assert python == ripgrep
    assert "x.log" not in [f.path for f in python.files]


@needs_rg
@pytest.mark.parametrize("sub", ["build", "src/generated"])
async def test_explicitly_searched_ignored_directory_is_searched(tree, sub):
    query = GrepQuery("hello")
    python = python_grep(tree / sub, query)
    assert python == await ripgrep_grep(shutil.which("rg"), tree / sub, query)
    assert len(python.files) == 1


async def test_auto_falls_back_to_python_for_lookaround(tree, ctx):
    result = await GrepTool(engine=SearchEngine.AUTO).execute({"pattern": "hello(?= world)"}, ctx)
    assert not result.is_error and "README.md\n1:hello world" in result.text_content


async def test_bad_regex_is_an_error(tree, ctx):
    result = await GrepTool(engine=SearchEngine.PYTHON).execute({"pattern": "(unclosed"}, ctx)
    assert result.is_error and "invalid regular expression" in result.text_content


async def test_grep_outside_workspace_refused(tree, ctx):
    result = await GrepTool(engine=SearchEngine.PYTHON).execute({"pattern": "hello", "path": "escape"}, ctx)
    assert result.is_error and "outside the workspace" in result.text_content


@pytest.mark.parametrize("engine", ENGINES)
async def test_glob_lists_sorted_unignored_files(tree, ctx, engine):
    tool = GlobTool(engine=engine)
    result = await tool.execute({"pattern": "**/*.py"}, ctx)
    assert result.text_content.splitlines() == ["src/main.py", "src/util.py"]
    top = await tool.execute({"pattern": "*.md"}, ctx)
    assert top.text_content.splitlines() == ["README.md"]
    in_dir = await tool.execute({"pattern": "**/leaf.{ts,tsx}", "path": "src"}, ctx)
    assert in_dir.text_content.splitlines() == ["src/deep/er/leaf.ts", "src/deep/er/leaf.tsx"]
    logs = await tool.execute({"pattern": "*.log"}, ctx)
    assert logs.text_content.splitlines() == ["keep.log"]
    none = await tool.execute({"pattern": "**/*.rs"}, ctx)
    assert not none.is_error and none.text_content.startswith("No files match")


@needs_rg
async def test_glob_engines_agree_on_every_file(tree, ctx):
    python = await GlobTool(engine=SearchEngine.PYTHON).execute({"pattern": "**"}, ctx)
    ripgrep = await GlobTool(engine=SearchEngine.RIPGREP).execute({"pattern": "**"}, ctx)
    assert python.text_content == ripgrep.text_content
    listed = python.text_content.splitlines()
    assert ".git/HEAD" not in listed and "escape.txt" not in listed and "build/out.txt" not in listed
    assert "blob.bin" in listed and ".hidden/conf.yml" in listed and "src/top_only.txt" in listed


async def test_glob_truncation_counts(ws, ctx):
    for i in range(600):
        (ws / f"f{i:03}.txt").write_text("")
    result = await GlobTool(engine=SearchEngine.PYTHON).execute({"pattern": "*.txt"}, ctx)
    assert "Showing the first 500 of 600 matching files" in result.text_content


def test_glob_translation():
    assert glob_to_regex("**/*.py").match("a/b/c.py") and glob_to_regex("**/*.py").match("c.py")
    assert not glob_to_regex("*.py").match("a/c.py")
    assert glob_to_regex("src/**").match("src/x/y") and glob_to_regex("[!a]?.md").match("bc.md")
    assert glob_to_regex("*.{ts,{js,jsx}}").match("x.jsx")
    assert expand_braces("a.{x,{y,z}}") == ["a.x", "a.y", "a.z"]
