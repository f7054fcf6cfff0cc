"""Finding a dataset's files: `data_dir` argument, then `TFSENTI_DATA_DIR`, then the cache, then a download.

Environment variables:
    TFSENTI_DATA_DIR: a dataset folder, or a parent holding `<name>/` folders (e.g. `../shared/datasets`).
    TFSENTI_CACHE_DIR: the tfsenti cache root; datasets go to `$TFSENTI_CACHE_DIR/datasets/<name>/`
        (default `~/.cache/tfsenti/datasets/<name>/`).
    TFSENTI_OFFLINE: 1/true/yes/on never downloads, 0/false/no/off always tries, unset probes the download host
        (one rule for all of tfsenti: `tfsenti.network`).
    TFSENTI_ALLOW_UNVERIFIED=1: accept downloads that have no pinned sha256.

The data folders are only read, never written (they may be read-only mounts); downloads go to the cache.

Example:
    >>> locate("nsmc", data_dir="../shared/datasets")  # doctest: +SKIP
    PosixPath('../shared/datasets/nsmc')
"""

from __future__ import annotations

import dataclasses
import os
import socket
import urllib.error
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from tfsenti import network
from tfsenti.data.archive import safe_extract
from tfsenti.data.download import download_file
from tfsenti.data.registry import REGISTRY, DatasetSpec, SourceFile
from tfsenti.errors import DataError, DatasetNotFoundError

_TRUE = ("1", "true", "yes", "on")


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for `name`, or a `DatasetNotFoundError` listing the known names.

    Example:
        >>> get_spec("imdb").languages
        ('en',)
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise DatasetNotFoundError(
            f"Unknown dataset {name!r}. Known datasets: {sorted(REGISTRY)}. To use your own data, give its path: a "
            "CSV / TSV / JSON Lines file (e.g. --data reviews.csv --label-column stars) or a folder with one "
            f"sub-folder of .txt files per class (e.g. --data reviews/); no file or folder {name!r} exists here."
        ) from None


def cache_dir(name: str) -> Path:
    """The cache folder of one dataset: `$TFSENTI_CACHE_DIR/datasets/<name>` or `~/.cache/tfsenti/datasets/<name>`.

    Example:
        >>> cache_dir("imdb").name
        'imdb'
    """
    root = os.environ.get("TFSENTI_CACHE_DIR")
    base = Path(root).expanduser() if root else Path("~/.cache/tfsenti").expanduser()
    return base / "datasets" / name


def download_blocked_reason(spec: DatasetSpec) -> str | None:
    """Why `spec`'s download URLs may not be fetched now (see `tfsenti.network`), or None; local (file://) URLs
    never need the network.

    Example:
        >>> from tfsenti.data.registry import Download
        >>> local = Download("file:///srv/data/imdb.tar.gz", None, "imdb.tar.gz")
        >>> download_blocked_reason(dataclasses.replace(get_spec("imdb"), downloads=(local,))) is None
        True
    """
    for host in dict.fromkeys(urllib.parse.urlparse(item.url).hostname for item in spec.downloads):
        reason = network.offline_reason(host) if host else None
        if reason:
            return reason
    return None


@dataclasses.dataclass(frozen=True)
class SearchedFolder:
    """A folder looked in, why it was looked in, and whether the dataset was there."""

    folder: Path
    origin: str
    found: bool


def find_sources(spec: DatasetSpec, folder: Path, splits: Sequence[str]) -> dict[str, tuple[Path, SourceFile]] | None:
    """For each split, the first stored alternative that exists in `folder`; None when any split is missing.

    Example:
        >>> find_sources(get_spec("nsmc"), Path("/nonexistent"), ["train"]) is None
        True
    """
    found = {}
    for split in splits:
        for source in spec.files[split]:
            path = folder / source.path
            if path.exists():
                found[split] = (path, source)
                break
        else:
            return None
    return found


def candidate_folders(spec: DatasetSpec, data_dir: str | Path | None) -> list[tuple[Path, str]]:
    """The folders searched, in order, each with its origin ("data_dir argument", "TFSENTI_DATA_DIR", "cache")."""
    folders: list[tuple[Path, str]] = []
    roots = []
    if data_dir is not None:
        roots.append((Path(data_dir).expanduser(), "data_dir argument"))
    elif os.environ.get("TFSENTI_DATA_DIR"):
        roots.append((Path(os.environ["TFSENTI_DATA_DIR"]).expanduser(), "TFSENTI_DATA_DIR"))
    for root, origin in roots:
        folders.append((root, origin))
        for sub in dict.fromkeys((spec.name, *spec.folder_names)):
            folders.append((root / sub, f"{origin}, sub-folder {sub}/"))
    cache = cache_dir(spec.name)
    folders.append((cache, "cache"))
    if os.environ.get("TFSENTI_CACHE_DIR"):
        folders.append((Path(os.environ["TFSENTI_CACHE_DIR"]).expanduser() / spec.name, "TFSENTI_CACHE_DIR"))
    return folders


def locate(name: str, data_dir: str | Path | None = None, *, splits: Sequence[str] | None = None,
           download: bool = True, progress: bool = True) -> Path:
    """The folder holding `name`'s files for `splits` (default: all), downloading into the cache if needed.

    Order: `data_dir` (or, when it is None, `TFSENTI_DATA_DIR`), each also as a parent of `<name>/`; then the
    cache; then the official URL (not offline, see `tfsenti.network`, nor with `download=False`). Raises
    `DatasetNotFoundError` naming the files to provide, the folders searched, and how to fix it.

    Example:
        >>> locate("imdb", data_dir="../shared/datasets")  # doctest: +SKIP
        PosixPath('../shared/datasets/imdb')
    """
    spec = get_spec(name)
    splits = tuple(splits) if splits is not None else spec.splits
    unknown = [split for split in splits if split not in spec.files]
    if unknown:
        raise DatasetNotFoundError(f"Dataset {name!r} has no split(s) {unknown}; its splits are {list(spec.splits)}.")
    searched = []
    for folder, origin in candidate_folders(spec, data_dir):
        found = find_sources(spec, folder, splits) is not None
        searched.append(SearchedFolder(folder, origin, found))
        if found:
            return folder
    if not download:
        raise DatasetNotFoundError(not_found_message(spec, splits, searched,
                                                     "no download: downloading was not requested."))
    if not spec.downloads:
        raise DatasetNotFoundError(not_found_message(spec, splits, searched, "no download URL is known."))
    blocked = download_blocked_reason(spec)
    if blocked:
        raise network.unavailable(f"dataset {name!r}", "its files in one of the folders below", blocked,
                                  error=DatasetNotFoundError,
                                  details=not_found_message(spec, splits, searched, f"no download: {blocked}."))
    try:
        _download_into_cache(spec, progress=progress)
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, DataError) as error:
        reason = getattr(error, "reason", None) or error
        raise DatasetNotFoundError(not_found_message(spec, splits, searched, f"the download failed: {reason}")) \
            from error
    cache = cache_dir(spec.name)
    if find_sources(spec, cache, splits) is None:
        raise DatasetNotFoundError(not_found_message(
            spec, splits, searched, f"the download finished but {cache} still lacks the files (unexpected "
                                    "archive layout?)."))
    return cache


def _download_into_cache(spec: DatasetSpec, *, progress: bool) -> None:
    cache = cache_dir(spec.name)
    allow_unverified = os.environ.get("TFSENTI_ALLOW_UNVERIFIED", "").strip().lower() in _TRUE
    for item in spec.downloads:
        if item.sha256 is None and not allow_unverified:
            raise DataError(f"{item.url} has no pinned sha256, so tfsenti refuses to use an unverified download. "
                            "Set TFSENTI_ALLOW_UNVERIFIED=1 to accept it anyway, or provide the files yourself")
        target = cache / item.filename
        if not target.exists():
            download_file(item.url, target, sha256=item.sha256, progress=progress)
        marker = cache / f".{item.filename}.extracted"
        if item.extract and not marker.exists():
            safe_extract(target, cache)
            marker.write_text("extraction completed\n", encoding="utf-8")


def not_found_message(spec: DatasetSpec, splits: Sequence[str], searched: Sequence[SearchedFolder],
                      download_note: str) -> str:
    """The full "what to provide, where we looked, how to fix it" message of `DatasetNotFoundError`."""
    lines = [f"Dataset {spec.name!r} ({spec.description}) was not found. Provide these files:"]
    lines += [f"  {split}: {spec.expected_files(split)}" for split in splits]
    lines.append("Searched (in order):")
    lines += [f"  {item.folder}  [{item.origin}]" for item in searched]
    if not os.environ.get("TFSENTI_DATA_DIR"):
        lines.append("  (TFSENTI_DATA_DIR is not set)")
    lines.append(f"Download: {download_note}")
    urls = ", ".join(item.url for item in spec.downloads)
    lines.append(
        f"Fix: pass --data-dir DIR (data_dir=DIR) or set TFSENTI_DATA_DIR=DIR, where DIR holds the files or a "
        f"{spec.name}/ folder with them; or copy them into {cache_dir(spec.name)}"
        + (f"; or allow the download from {urls}." if urls else ".")
    )
    return "\n".join(lines)
