"""Downloading a dataset file: short timeouts, a progress bar, a sha256 check and an atomic rename.

Example:
    >>> download_file("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    ...               "~/.cache/tfsenti/datasets/imdb/aclImdb_v1.tar.gz",
    ...               sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

from tfsenti.errors import DataError

CONNECT_TIMEOUT_S = 10.0
_CHUNK = 1 << 20


class ChecksumError(DataError):
    """A downloaded file does not have the pinned sha256."""


def sha256_of(path: str | Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks.

    Example:
        >>> len(sha256_of(__file__))
        64
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url: str, target: str | Path, *, sha256: str | None, progress: bool = True,
                  timeout: float = CONNECT_TIMEOUT_S) -> Path:
    """Fetch `url` into `target` atomically; verify `sha256` (skipped only when None) before the rename.

    The data is streamed to a temporary file beside `target`; on a checksum mismatch it is deleted and
    `ChecksumError` is raised. Network errors (`urllib.error.URLError`, timeouts) propagate to the caller.

    Example:
        >>> download_file("file:///tmp/a.txt", "/tmp/cache/a.txt", sha256=None)  # doctest: +SKIP
        PosixPath('/tmp/cache/a.txt')
    """
    from tqdm.auto import tqdm

    target = Path(target).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256.lower():
            raise ChecksumError(f"sha256 mismatch for {url}: expected {sha256}, received {actual}. The download "
                                "was deleted; retry, or fetch the file by hand and pass its folder with --data-dir.",
                                path=str(target))
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target
