from agentcore.tools.args import format_problems, validate_args
from agentcore.tools.builtin import builtin_tools
from tools_executor import call_tool

SCHEMA = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "minLength": 1},
        "limit": {"type": "integer", "minimum": 1},
        "mode": {"type": "string", "enum": ["a", "b"]},
        "edits": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"old": {"type": "string"}, "all": {"type": "boolean"}},
                "required": ["old"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["path"],
    "additionalProperties": False,
}


def test_valid_arguments_have_no_problems():
    assert validate_args(SCHEMA, {"path": "x", "limit": 3, "mode": "a", "edits": [{"old": "y", "all": True}]}) == []
    assert validate_args(SCHEMA, {"path": "x", "limit": 3.0}) == []  # JSON integers may arrive as 3.0


def test_each_problem_is_named():
    problems = validate_args(SCHEMA, {"limit": "3", "mode": "c", "colour": 1, "edits": [{"all": 1}]})
    text = "\n".join(problems)
    assert "path: required but missing" in text
    assert "limit: expected integer, got string" in text
    assert "mode: 'c' is not one of 'a', 'b'" in text
    assert "colour: unknown argument" in text
    assert "edits[0].old: required but missing" in text
    assert "edits[0].all: expected boolean, got integer" in text


def test_bool_is_not_an_integer_and_bounds_apply():
    assert validate_args(SCHEMA, {"path": "x", "limit": True}) == ["limit: expected integer, got boolean (True)"]
    assert "below the minimum" in validate_args(SCHEMA, {"path": "x", "limit": 0})[0]
    assert "at least 1" in validate_args(SCHEMA, {"path": "x", "edits": []})[0]
    assert "must not be empty" in validate_args(SCHEMA, {"path": ""})[0]


def test_non_object_arguments():
    assert validate_args(SCHEMA, ["x"]) == ["arguments: expected object, got array (['x'])"]


def test_format_problems_mentions_tool():
    assert format_problems("read_file", ["path: required but missing"]).startswith("Invalid arguments for read_file")


async def test_every_builtin_tool_reports_bad_arguments_as_error_result(ctx):
    for tool in builtin_tools():
        result = await call_tool(tool, {"definitely_not_an_argument": 1}, ctx)
        assert result.is_error, tool.name
        assert result.text.startswith(f"Invalid arguments for {tool.name}:"), tool.name
        assert "definitely_not_an_argument: unknown argument" in result.text, tool.name


def test_builtin_schemas_are_valid_json_schema():
    import jsonschema

    from agentcore.messages import thaw_json

    for tool in builtin_tools():
        jsonschema.Draft202012Validator.check_schema(thaw_json(tool.parameters))
        assert tool.description.strip(), tool.name
