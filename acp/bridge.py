"""``agent acp`` as a thin bridge to the local ``agent serve`` (being built).

Standard library only (no trio): it must answer ``initialize`` within tens of
milliseconds. :func:`main` returns None when the bridge is not used (or cannot
be), and the caller runs the in-process agent instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

BRIDGE_ENV = "AGENTCORE_ACP_BRIDGE"  # "1": use the bridge; "0": never


def wanted(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether ``agent acp ARGV`` should go through the bridge."""
    if "--no-bridge" in argv:
        return False
    return "--bridge" in argv or env.get(BRIDGE_ENV) == "1"


def main(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int | None:
    """Relay stdio to the server; None: fall back to the in-process agent."""
    env = os.environ if env is None else env
    return None
