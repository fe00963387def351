"""The schema, the Settings types, the docs and the import cost agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import attrs

from agentcore.config import CONFIG_KEYS, Settings
from agentcore.config.doc import render_doc
from agentcore.config.paths import resolve_paths
from agentcore.config.profiles import PROFILE_KEYS

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "configuration.md"


def test_doc_key_tables_match_the_schemas():
    text = DOC.read_text(encoding="utf-8")
    assert render_doc(text) == text, "regenerate with: python -m agentcore.config.doc docs/configuration.md"
    for key in (*CONFIG_KEYS, *PROFILE_KEYS):
        assert f"| `{key.name}` |" in text


def _settings_leaf_names() -> set[str]:
    """Dotted names of Settings fields, with named tables as `*`, mirroring the schema."""
    names = set()
    default = Settings()
    for field in attrs.fields(Settings):
        value = getattr(default, field.name)
        if field.name == "providers":
            names |= {f"providers.*.{f.name}" for f in attrs.fields(type(value["openai"])) if f.name != "name"}
        elif field.name == "mcp":
            from agentcore.config import McpServerConfig

            names |= {f"mcp.servers.*.{f.name}" for f in attrs.fields(McpServerConfig) if f.name != "name"}
        elif attrs.has(type(value)):
            names |= {f"{field.name}.{f.name}" for f in attrs.fields(type(value))}
        else:
            names.add(field.name)
    return names


def test_every_schema_key_is_a_settings_field_and_back():
    assert _settings_leaf_names() == {k.name for k in CONFIG_KEYS}


def test_settings_defaults_are_the_schema_defaults():
    default = Settings()
    for key in CONFIG_KEYS:
        if "*" in key.name:
            continue
        node = default
        for part in key.name.split("."):
            node = getattr(node, part)
        assert node == key.default, key.name


def test_shipped_profiles_are_package_data():
    shipped = resolve_paths({"AGENTCORE_HOME": "/nonexistent"}).shipped_profiles_dir
    assert {"default.toml", "coder.md", "reviewer.md"} <= {p.name for p in shipped.iterdir()}
    assert (REPO / "profiles" / "__init__.py").is_file()


def test_config_modules_import_nothing_heavy():
    code = (
        "import sys, agentcore.config, agentcore.config.profiles, agentcore.config.paths, agentcore.config.write, "
        "agentcore.cli.config_cmds\n"
        "heavy = [m for m in ('trio', 'httpx', 'rich', 'tiktoken', 'platformdirs') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == ""


def test_registering_the_cli_commands_imports_no_configuration_modules():
    code = (
        "import sys, argparse, agentcore.cli.config_cmds as c\n"
        "c.add_subparsers(argparse.ArgumentParser().add_subparsers())\n"
        "print(','.join(m for m in ('attrs', 'agentcore.config', 'tomllib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == ""


def test_platform_locations_without_agentcore_home():
    paths = resolve_paths({})
    assert paths.config_dir.name == "agentcore"
    assert paths.state_dir.name == "agentcore"
    assert paths.user_config_file.name == "config.toml"
