"""Keeping the agent's secrets out of the processes it starts and the text it keeps.

Invariant: a tool process (bash, background shells, hooks) never inherits a
provider API key or a variable that looks like a secret, unless its name is in
``[shell] env_passthrough``; and the exact values of the agent's own keys never
leave a tool result, a progress report, a spill file or a background log
unredacted. Two pure pieces hold it:

* :func:`tool_environment` -- the environment tool processes start from: the
  agent's environment minus provider keys, minus variables whose *name* matches
  :data:`SECRET_NAME_PATTERNS`, minus variables whose *value* matches
  :data:`SECRET_VALUE_PATTERNS` (or is a long high-entropy token).
* :class:`Redactor` -- the second line of defence: it replaces the exact values
  the agent holds (provider keys, and every stripped value long enough to be
  unambiguous) with ``[REDACTED:NAME]``, with one compiled alternation;
  :class:`StreamRedactor` does the same across streamed chunks.

:class:`ToolSecrets` bundles both for the wiring (``AgentCoreBuilder``).
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

import attrs

# Provider keys stripped whether or not a provider using them is configured.
WELL_KNOWN_PROVIDER_KEY_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GROQ_API_KEY",
    "MISTRAL_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "XAI_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "COHERE_API_KEY",
    "PERPLEXITY_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
)

# Names (matched case-insensitively, shell-glob style) of variables that hold secrets.
SECRET_NAME_PATTERNS = (
    "*_KEY",
    "*_KEYS",
    "*API_KEY*",
    "*APIKEY*",
    "*PRIVATE_KEY*",
    "*TOKEN*",
    "*SECRET*",
    "*PASSWORD*",
    "*PASSWD*",
    "*PASSPHRASE*",
    "*CREDENTIAL*",
    "*COOKIE*",
    "*_PAT",
    "*_AUTH",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "NPM_TOKEN",
    "*_DSN",
)
# Names that match a pattern above but hold nothing secret.
NOT_SECRET_NAMES = frozenset({"TOKENIZERS_PARALLELISM", "PASSWORD_STORE_DIR", "GNUPGHOME"})

# Values that are secrets whatever the variable is called.
SECRET_VALUE_PATTERNS = (
    r"sk-[A-Za-z0-9_-]{16,}",  # OpenAI, Anthropic (sk-ant-...), DeepSeek, ...
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"glpat-[A-Za-z0-9_-]{20,}",  # GitLab
    r"xox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
    r"(?:AKIA|ASIA)[0-9A-Z]{16}",  # AWS access key ids
    r"AIza[0-9A-Za-z_-]{35}",  # Google API keys
    r"npm_[A-Za-z0-9]{36}",
    r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.",  # JWTs
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",  # URLs with a password (DATABASE_URL, ...)
)
_SECRET_VALUE_RE = re.compile("|".join(f"(?:{p})" for p in SECRET_VALUE_PATTERNS))
# A long token of one "word" with mixed character classes and high entropy is a
# credential, not a path, a list or a flag: those carry separators (/ : ; space , =).
TOKEN_MIN_CHARS = 32  # shorter random-looking values are ids more often than secrets
TOKEN_MIN_ENTROPY_BITS = 4.2  # per character; random base62 of 32+ chars scores ~4.6, hex at most 4.0
_TOKEN_RE = re.compile(r"[A-Za-z0-9+_.=-]+(?:/[A-Za-z0-9+_.=-]+)*")
# Stripped values shorter than this are not redacted from output: they would
# match ordinary words and numbers.
REDACT_MIN_CHARS = 8


def looks_secret_name(name: str) -> bool:
    upper = name.upper()
    if upper in NOT_SECRET_NAMES:
        return False
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in SECRET_NAME_PATTERNS)


def _entropy_bits(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_secret_value(value: str) -> bool:
    """A known credential shape, or a long high-entropy token (never a path or a list)."""
    if _SECRET_VALUE_RE.search(value):
        return True
    if len(value) < TOKEN_MIN_CHARS or value[0] in "/.~" or not _TOKEN_RE.fullmatch(value):
        return False
    classes = (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    return all(classes) and _entropy_bits(value) >= TOKEN_MIN_ENTROPY_BITS


def _passes(name: str, passthrough: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.upper(), pattern.upper()) for pattern in passthrough)


def stripped_names(
    env: Mapping[str, str], *, passthrough: Iterable[str] = (), provider_key_vars: Iterable[str] = ()
) -> list[str]:
    """The names :func:`tool_environment` leaves out, in ``env`` order."""
    providers = {v.upper() for v in (*WELL_KNOWN_PROVIDER_KEY_VARS, *provider_key_vars)}
    allowed = tuple(passthrough)
    return [
        name
        for name, value in env.items()
        if not _passes(name, allowed)
        and (name.upper() in providers or looks_secret_name(name) or looks_secret_value(value))
    ]


def tool_environment(
    env: Mapping[str, str], *, passthrough: Iterable[str] = (), provider_key_vars: Iterable[str] = ()
) -> dict[str, str]:
    """``env`` without provider keys and secret-looking variables (by name or
    value), except names matching a ``passthrough`` glob. Pure."""
    dropped = set(stripped_names(env, passthrough=passthrough, provider_key_vars=provider_key_vars))
    return {name: value for name, value in env.items() if name not in dropped}


# git settings every tool process gets, appended to any the user set through
# GIT_CONFIG_COUNT: a bare repository the model wrote into the workspace
# (HEAD + config with core.fsmonitor, core.pager, ...) is never discovered and
# run by a plain `git` command, only with an explicit --git-dir.
GIT_HARDENING = (("safe.bareRepository", "explicit"),)


def with_git_hardening(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus :data:`GIT_HARDENING` as ``GIT_CONFIG_KEY_n``/``VALUE_n`` entries. Pure."""
    out = dict(env)
    try:
        count = int(out.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        count = 0
    for key, value in GIT_HARDENING:
        out[f"GIT_CONFIG_KEY_{count}"] = key
        out[f"GIT_CONFIG_VALUE_{count}"] = value
        count += 1
    out["GIT_CONFIG_COUNT"] = str(count)
    return out


class Redactor:
    """Replaces exact secret values with ``[REDACTED:NAME]``.

    One compiled alternation, longest value first (a key that contains another
    key is replaced whole). An empty redactor returns text untouched at no cost.
    """

    def __init__(self, secrets: Mapping[str, str]) -> None:
        by_value: dict[str, str] = {}
        for name, value in secrets.items():
            if len(value) >= REDACT_MIN_CHARS:
                by_value.setdefault(value, name)
        self._names = by_value
        ordered = sorted(by_value, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self.longest = len(ordered[0]) if ordered else 0
        self._first_chars = frozenset(v[0] for v in ordered)
        self._values = tuple(ordered)

    @classmethod
    def for_environment(
        cls, env: Mapping[str, str], *, passthrough: Iterable[str] = (), provider_key_vars: Iterable[str] = ()
    ) -> Redactor:
        """The agent's own keys (present provider keys, passed through or not)
        and every value :func:`tool_environment` strips."""
        providers = {v.upper() for v in (*WELL_KNOWN_PROVIDER_KEY_VARS, *provider_key_vars)}
        names = stripped_names(env, passthrough=passthrough, provider_key_vars=provider_key_vars)
        names += [n for n in env if n.upper() in providers and n not in names]
        return cls({name: env[name] for name in names if env[name]})

    def __bool__(self) -> bool:
        return self._pattern is not None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._names.values())))

    def redact(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(lambda m: f"[REDACTED:{self._names[m.group(0)]}]", text)

    def held_back(self, text: str) -> int:
        """How many trailing characters of ``text`` could begin a secret that the
        next chunk completes (0 when none could)."""
        if self._pattern is None:
            return 0
        start = max(0, len(text) - self.longest + 1)
        for i in range(start, len(text)):
            if text[i] in self._first_chars:
                rest = text[i:]
                if any(v.startswith(rest) for v in self._values):
                    return len(text) - i
        return 0

    def stream(self) -> StreamRedactor:
        return StreamRedactor(self)


NO_REDACTION = Redactor({})


class StreamRedactor:
    """Redacts a stream of text chunks: a secret split across chunks is still
    caught, because a tail that could start a secret is held back until the
    next chunk (or :meth:`flush`) decides it."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._pending = ""

    def feed(self, text: str) -> str:
        if not self._redactor:
            return text
        text = self._pending + text
        redacted = self._redactor.redact(text)
        keep = self._redactor.held_back(redacted)
        self._pending = redacted[len(redacted) - keep :] if keep else ""
        return redacted[: len(redacted) - keep]

    def flush(self) -> str:
        pending, self._pending = self._pending, ""
        return self._redactor.redact(pending)


@attrs.frozen
class ToolSecrets:
    """What tool processes start with and what is redacted from their output."""

    env: Mapping[str, str]
    redactor: Redactor

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str], *, passthrough: Iterable[str] = (), provider_key_vars: Iterable[str] = ()
    ) -> ToolSecrets:
        passthrough, provider_key_vars = tuple(passthrough), tuple(provider_key_vars)
        return cls(
            with_git_hardening(tool_environment(env, passthrough=passthrough, provider_key_vars=provider_key_vars)),
            Redactor.for_environment(env, passthrough=passthrough, provider_key_vars=provider_key_vars),
        )


def context_redactor(ctx: object) -> Redactor:
    """The redactor a tool call's context carries (``services["redactor"]``, which
    the session puts there), else its shell backend's, else none. Duck-typed so
    that this module depends on nothing of the runtime."""
    services = getattr(ctx, "services", None) or {}
    redactor = services.get("redactor")
    if isinstance(redactor, Redactor):
        return redactor
    redactor = getattr(getattr(ctx, "shell", None), "redactor", None)
    return redactor if isinstance(redactor, Redactor) else NO_REDACTION
