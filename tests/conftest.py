"""Shared fixtures: the toy corpus and the location of the real data (tests needing it skip when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# tfsenti is installed (scripts/setup.sh: pip install -e .); pytest.ini puts tests/ and benchmarks/ on the path.
REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TFSENTI_CPU_FLAGS", "avx2")  # precision `auto` picks float32 on every CPU kind (and in children)

SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """../shared/datasets beside the repository; tests that take it are skipped where it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"real data folder {SHARED_DATASETS} is absent (it sits beside the repo on project machines)")
    return SHARED_DATASETS


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's ~/.cache or the network from tests."""
    monkeypatch.setenv("TFSENTI_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("TFSENTI_OFFLINE", "1")
    monkeypatch.delenv("TFSENTI_DATA_DIR", raising=False)
