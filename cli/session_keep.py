"""What ``/clear`` keeps: the choices the person made in this chat process.

A new session starts from the configuration files, which were read when the
chat started; what the person chose since — the permission mode (``/mode``,
Shift-Tab), rules answered "always" or "never" (saved for later sessions, but
the configuration is not re-read), and a model picked with ``/model`` — would
be lost. :class:`KeptChoices` is taken from the old session before it closes
and applied to the new one.

Invariant: only what the person set is carried over; nothing widens what the
configuration grants beyond the rules the person answered in this process.
"""

from __future__ import annotations

from typing import Any

import attrs

from agentcore.permissions import PermissionMode, Rule


@attrs.frozen
class KeptChoices:
    mode: PermissionMode
    rules: tuple[Rule, ...]  # every rule of the old session's gate; the new one gets those it lacks
    model: tuple[str, str] | None  # (provider, model) chosen with /model, else None

    @classmethod
    def of(cls, session: Any, *, chosen_model: tuple[str, str] | None) -> KeptChoices:
        return cls(session.mode, tuple(getattr(session.permissions, "rules", ())), chosen_model)

    async def apply(self, session: Any) -> list[str]:
        """Give ``session`` these choices; returns what was carried over, for one line."""
        kept = [f"mode {self.mode.value}"]
        if session.mode is not self.mode:
            await session.set_mode(self.mode)
        present = set(getattr(session.permissions, "rules", ()))
        added = [rule for rule in self.rules if rule not in present]
        for rule in added:
            session.permissions.add_rule(rule)
        if added:
            kept.append(f"{len(added)} rule{'s' if len(added) != 1 else ''} from this chat")
        if self.model is not None:
            provider, model = self.model
            if (session.provider_name, session.model) != (provider, model):
                await session.set_model(model=model, provider=provider)
            kept.append(f"model {provider}/{model}")
        return kept
