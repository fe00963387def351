"""The ``agent`` command.

Start-up is kept light: the standard library's ``os`` and ``sys`` only, until
a fast path answers or the parser (:mod:`agentcore.cli.parser`, argparse) is
needed. ``agent --version`` imports only the ``agentcore`` facade and the
installed metadata; ``agent acp`` with the bridge imports only the bridge.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def _version_line() -> str:
    import agentcore  # the facade; it reads the installed version on first use

    return f"agentcore {agentcore.__version__}"


def build_parser():  # type: ignore[no-untyped-def]
    """The full argparse parser (for tests and tools)."""
    from agentcore.cli.parser import build_parser as build

    return build()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in (["--version"], ["-V"]):  # the fast path: no parser, no imports
        print(_version_line())
        return 0
    if argv[:1] == ["acp"]:  # an editor starting the agent: the bridge path imports almost nothing
        from agentcore.acp import bridge

        if bridge.wanted(argv[1:], os.environ):
            code = bridge.main(argv[1:])
            if code is not None:
                return code
    from agentcore.cli.parser import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
