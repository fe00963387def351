"""The pieces behind the chat's terminal habits, without a terminal: which
``@`` words are mentions, how completion ranks and filters paths, how a
custom command file is parsed and expanded, and what ``/clear`` carries over
(the pty tests in test_cli_chat_habits.py drive the same code end to end)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.permissions import DefaultPermissionGate, PermissionMode, Rule, RuleAction
from agentcore.tools import Workspace
from agentcore.cli.custom_commands import CommandFileError, load_commands, parse_command
from agentcore.cli.mention_complete import FileIndex, MentionCompleter
from agentcore.cli.mentions import find_mentions, is_secret_name
from agentcore.cli.session_keep import KeptChoices


def test_only_at_words_that_start_a_word_are_mentions() -> None:
    text = 'see @src/a.py, @"my file.txt" and @\'b c\' — mail a@b.com, @ alone, x@y'
    assert [m.raw for m in find_mentions(text)] == ["src/a.py,", "my file.txt", "b c"]
    assert find_mentions("@first") and find_mentions("@first")[0].raw == "first"


@pytest.mark.parametrize(
    ("name", "secret"),
    [(".env", True), (".env.production", True), (".env.example", False), ("id_rsa", True), ("id_rsa.pub", False),
     ("server.pem", True), ("notes.txt", False), (".netrc", True)],
)  # fmt: skip
def test_secret_stores_are_known_by_name(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def _tree(root: Path) -> None:
    for rel in ("src/app/main.py", "src/app/util.py", "docs/guide.md", "build/out.o", "my dir/notes.txt", "secret/key.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    (root / ".gitignore").write_text("build/\n")


def test_completion_ranks_respects_gitignore_and_deny_rules(tmp_path: Path) -> None:
    _tree(tmp_path)
    workspace = Workspace(tmp_path)
    gate = DefaultPermissionGate(rules=(Rule.parse("read_file(secret/**)", RuleAction.DENY),))
    rebuilds: list[bool] = []
    complete = MentionCompleter(FileIndex(workspace.cwd), denied=lambda p: gate.path_denied(p, workspace) is not None,
                                refresh=lambda: rebuilds.append(True))  # fmt: skip
    assert complete("x @src/app/m") == ["x @src/app/main.py"]
    assert complete("@util")[0] == "@src/app/util.py"  # a file-name match
    assert complete("@uide") == ["@docs/guide.md"]  # a substring
    assert "@src/app/main.py" in complete("@sapm")  # letters in order
    assert complete("@bui") == []  # ignored by .gitignore
    assert complete("@secret") == ["@secret/"] and complete("@key") == []  # denied files: not even their names
    assert complete("@my")[:2] == ['@"my dir/', '@"my dir/notes.txt"']  # paths with spaces come quoted
    assert complete('@"my dir/n') == ['@"my dir/notes.txt"']  # and Tab goes on inside the quotes
    assert complete("mail a@b") == [] and complete("no mention") == []
    assert not rebuilds  # a fresh index is not rebuilt


def test_a_stale_index_is_rebuilt_in_the_background_while_the_old_one_answers(tmp_path: Path) -> None:
    _tree(tmp_path)
    index = FileIndex(tmp_path, max_age_s=0.0)
    rebuilds: list[bool] = []
    complete = MentionCompleter(index, denied=lambda p: False, refresh=lambda: rebuilds.append(True))
    assert complete("@guide") == ["@docs/guide.md"]  # the first Tab builds it
    (tmp_path / "docs" / "guide2.md").write_text("y")
    assert complete("@guide") == ["@docs/guide.md"] and rebuilds == [True]  # old answer, rebuild asked for
    index.build()
    assert complete("@guide") == ["@docs/guide.md", "@docs/guide2.md"]


def test_custom_command_front_matter_and_arguments(tmp_path: Path) -> None:
    fields, body = parse_command("---\ndescription: Review it\nargument-hint: <file>\nother: ignored\n---\nReview $1 ($ARGUMENTS)\n")
    assert fields == {"description": "Review it", "argument-hint": "<file>"} and body == "Review $1 ($ARGUMENTS)\n"
    with pytest.raises(CommandFileError, match="never ends"):
        parse_command("---\ndescription: x\n")
    (tmp_path / "user" / "git").mkdir(parents=True)
    (tmp_path / "user" / "review.md").write_text("Review $1 then $2 ($ARGUMENTS)")
    (tmp_path / "user" / "plain.md").write_text("Plain body")
    (tmp_path / "user" / "git" / "commit.md").write_text("Commit")
    (tmp_path / "user" / "bad name!.md").write_text("x")
    (tmp_path / "user" / "mode.md").write_text("x")
    (tmp_path / "user" / "empty.md").write_text("---\ndescription: nothing\n---\n")
    (tmp_path / "user" / "link.md").symlink_to(tmp_path / "outside.md")
    (tmp_path / "outside.md").write_text("a file elsewhere")
    loaded = load_commands([("user", tmp_path / "user")], builtin=("mode", "help"))
    assert sorted(loaded.commands) == ["git:commit", "plain", "review"]
    notes = "\n".join(loaded.notes)
    assert "bad name!.md: names may use" in notes and "/mode" in notes and "is built in" in notes
    assert "empty.md: the body is empty" in notes and "link.md: it is a link to a file outside" in notes
    review = loaded.commands["review"]
    assert review.expand('a.py "b c"') == 'Review a.py then b c (a.py "b c")'
    assert review.expand("") == "Review  then  ()"
    assert loaded.commands["plain"].expand("more words") == "Plain body\n\nmore words"
    assert loaded.commands["plain"].expand("it's unbalanced") == "Plain body\n\nit's unbalanced"


class _Session:
    def __init__(self, rules: tuple[Rule, ...], mode: PermissionMode) -> None:
        self.permissions = DefaultPermissionGate(mode=mode, rules=rules)
        self.provider_name, self.model = "openai", "default-model"

    @property
    def mode(self) -> PermissionMode:
        return self.permissions.mode

    async def set_mode(self, mode: PermissionMode) -> None:
        self.permissions.set_mode(mode)

    async def set_model(self, *, model: str, provider: str | None) -> None:
        self.provider_name, self.model = provider or self.provider_name, model


async def test_clear_carries_the_mode_the_rules_answered_and_the_chosen_model() -> None:
    configured = Rule.parse("bash(ls *)", RuleAction.ALLOW)
    answered = Rule.parse("bash(git status *)", RuleAction.ALLOW)
    refused = Rule.parse("bash(rm -rf build)", RuleAction.DENY)
    old = _Session((configured, answered, refused), PermissionMode.YOLO)
    kept = KeptChoices.of(old, chosen_model=("openai", "other"))
    new = _Session((configured,), PermissionMode.ASK)
    said = await kept.apply(new)
    assert new.mode is PermissionMode.YOLO and new.model == "other"
    assert new.permissions.rules == [configured, answered, refused]  # nothing twice, nothing lost
    assert said == ["mode yolo", "2 rules from this chat", "model openai/other"]
    untouched = _Session((configured,), PermissionMode.ASK)
    assert await KeptChoices.of(untouched, chosen_model=None).apply(_Session((configured,), PermissionMode.ASK)) == ["mode ask"]


class _ShellHost:
    def __init__(self, root: Path, mode: PermissionMode, rules: tuple[Rule, ...]) -> None:
        self.workspace = Workspace(root)
        self.permissions = DefaultPermissionGate(mode=mode, rules=rules)


@pytest.mark.parametrize("mode", list(PermissionMode))
def test_only_deny_rules_refuse_a_command_the_person_typed(tmp_path: Path, mode: PermissionMode) -> None:
    from agentcore.cli.shell_passthrough import denial

    rules = (Rule.parse("bash(rm *)", RuleAction.DENY), Rule.parse("read_file(**/.env)", RuleAction.DENY),
             Rule.parse("bash(git push *)", RuleAction.ASK))  # fmt: skip
    host = _ShellHost(tmp_path, mode, rules)
    assert denial(host, "echo hi > out.txt && git push origin main") is None  # mode and ask rules limit the model only
    assert "bash(rm *)" in (denial(host, "ls; rm -rf build") or "")
    assert "bash(rm *)" in (denial(host, "sudo /bin/rm x") or "")
    assert ".env" in (denial(host, "cat .env") or "")  # a path deny rule covers the file it names
