"""``python -m acp``: the same entry as ``agent acp``."""

import sys

from acp.server import main

sys.exit(main())
