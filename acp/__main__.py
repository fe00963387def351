"""``python -m agentcore.acp``: the same entry as ``agent acp``."""

import sys

from agentcore.acp.server import main

sys.exit(main())
