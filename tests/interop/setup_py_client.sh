#!/bin/sh
# Creates tests/interop/.venv-py with the Python ACP SDK for the second interop
# client. Kept apart from the project's venv: that package installs a module
# named `acp`, which would shadow this project's own `acp` package.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
if [ ! -x "$here/.venv-py/bin/python" ]; then
    "$python" -m venv "$here/.venv-py"
fi
"$here/.venv-py/bin/python" -m pip install --quiet --disable-pip-version-check "agent-client-protocol==0.12.1"
