#!/usr/bin/env bash
# Create (or reuse) ./.venv with mtlbox and its pinned dependencies.
# Re-installs only when requirements*.txt or setup.py changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${MTLBOX_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    echo "[mtlbox] creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
STAMP="$VENV/.mtlbox-requirements"
WANT=$(cat requirements.txt requirements-tests.txt setup.py | sha256sum | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "[mtlbox] installing requirements into $VENV (first time: a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip 'setuptools<82' wheel
    "$VENV/bin/python" -m pip install -q -r requirements-tests.txt
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
    echo "$WANT" > "$STAMP"
else
    echo "[mtlbox] reusing $VENV"
fi
