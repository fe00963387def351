"""Profiles shipped with agentcore (data files, located with ``importlib.resources``).

Each ``NAME.toml`` or ``NAME.md`` here is a profile; users override one by
putting a file of the same name in their config dir's ``profiles/`` or in a
project's ``.agent/profiles/``. See docs/configuration.md.
"""
