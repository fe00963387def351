"""Who an MCP server's question goes to, and the end of a URL elicitation:
the AcpElicitor asks the session's owner at the time of asking (the opener
while attached, else the longest-attached controller; ``agent serve``), in the
modes that client advertised, and passes ``elicitation/complete`` on to the
client that was shown the URL. Messages are checked against both ACP schemas."""

from __future__ import annotations

from typing import Any

from acp_schema import validate_definition
from agentcore.acp.elicitation import AcpElicitor, advertised_modes
from agentcore.mcp import Elicitation, ElicitationAction, ElicitationMode

URL_CAPS = {"elicitation": {"form": {}, "url": {}}}


class Client:
    """A client connection that records what the agent sends and accepts every question."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []
        self.notifications: list[tuple[str, Any]] = []

    async def request(self, method: str, params: Any, *, timeout_s: float | None = None) -> Any:
        for which in ("schema.json", "schema.unstable.json"):
            validate_definition("CreateElicitationRequest", params, which)
        self.requests.append((method, params))
        return {"action": "accept"}

    async def notify(self, method: str, params: Any = None) -> None:
        for which in ("schema.json", "schema.unstable.json"):
            validate_definition("CompleteElicitationNotification", params, which)
        self.notifications.append((method, params))


def url_question(elicitation_id: str = "elicit-42") -> Elicitation:
    return Elicitation("auth", ElicitationMode.URL, "Sign in", url="https://auth.example/login",
                       elicitation_id=elicitation_id)  # fmt: skip


async def test_questions_follow_the_owner_and_completion_goes_where_the_url_went() -> None:
    opener, other = Client(), Client()
    owner: list[tuple[Any, frozenset[str]] | None] = [(opener, advertised_modes(URL_CAPS))]
    elicitor = AcpElicitor(opener, "sess_1", URL_CAPS, route=lambda: owner[0])
    assert (await elicitor.elicit(url_question())).action is ElicitationAction.ACCEPT
    owner[0] = (other, frozenset({"url"}))  # the opener left; another controller owns the session now
    assert (await elicitor.elicit(url_question("elicit-43"))).action is ElicitationAction.ACCEPT
    assert [p["elicitationId"] for _, p in opener.requests] == ["elicit-42"]
    assert [p["elicitationId"] for _, p in other.requests] == ["elicit-43"]
    await elicitor.complete("auth", "elicit-42")
    await elicitor.complete("auth", "elicit-42")  # once only
    await elicitor.complete("auth", "never-shown")
    assert opener.notifications == [("elicitation/complete", {"elicitationId": "elicit-42"})]
    assert other.notifications == []


async def test_nobody_attached_or_a_mode_not_shown_is_declined() -> None:
    form_only = Client()
    owner: list[tuple[Any, frozenset[str]] | None] = [None]
    elicitor = AcpElicitor(form_only, "sess_1", {}, route=lambda: owner[0])
    assert (await elicitor.elicit(url_question())).action is ElicitationAction.DECLINE
    owner[0] = (form_only, frozenset({"form"}))
    assert (await elicitor.elicit(url_question())).action is ElicitationAction.DECLINE
    assert form_only.requests == []
