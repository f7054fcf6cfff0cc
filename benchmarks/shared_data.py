"""Where the benchmarks find the real datasets: `../shared/datasets/<folder>` beside the repository.

Example:
    >>> shared_data_dir("no-such-dataset") is None
    True
"""

from __future__ import annotations

from pathlib import Path

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FOLDERS = {"imdb": "imdb", "nsmc": "nsmc", "amazon": "amazon_polarity"}


def shared_data_dir(name: str) -> str | None:
    """The shared folder of dataset `name`, or None when it is absent (the loaders then look elsewhere and say
    what to provide)."""
    path = SHARED_DATASETS / FOLDERS.get(name, name)
    return str(path) if path.is_dir() else None
