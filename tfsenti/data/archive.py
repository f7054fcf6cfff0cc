"""Safe tar handling: every member is checked before anything is written or read.

Rejected: absolute paths, `..` components, links whose target lands outside the destination, and device, FIFO or
other special files. Python's own `filter="data"` runs as a second line of defence.

Example:
    >>> import tarfile
    >>> member = tarfile.TarInfo("../../etc/passwd")
    >>> try:
    ...     check_member(member, "archive.tar.gz")
    ... except UnsafeArchiveError as error:
    ...     print(str(error).split(":")[0])
    Unsafe member '../../etc/passwd' in archive.tar.gz
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import tempfile
from pathlib import Path

from tfsenti.errors import DataError


class UnsafeArchiveError(DataError):
    """An archive member would escape the destination folder or is a special file."""


def check_member(member: tarfile.TarInfo, archive: str | Path) -> None:
    """Raise `UnsafeArchiveError` naming the member when extracting it could write outside the destination.

    Example:
        >>> check_member(tarfile.TarInfo("aclImdb/train/pos/0_9.txt"), "aclImdb_v1.tar.gz")
    """
    name = member.name

    def reject(why: str) -> None:
        raise UnsafeArchiveError(f"Unsafe member {name!r} in {archive}: {why}. The archive was not extracted; "
                                 "delete it and download it again from the official source.")

    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or posixpath.isabs(name):
        reject("absolute path")
    if ".." in Path(name.replace("\\", "/")).parts:
        reject("path contains '..'")
    if member.issym() or member.islnk():
        target = member.linkname
        if posixpath.isabs(target) or target.startswith("\\"):
            reject(f"link to absolute path {target!r}")
        base = posixpath.dirname(name) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, target))
        if resolved == ".." or resolved.startswith("../"):
            reject(f"link target {target!r} points outside the destination")
    elif not (member.isfile() or member.isdir()):
        reject("device, FIFO or other special file")


def safe_extract(archive: str | Path, destination: str | Path) -> Path:
    """Extract a tar archive (any compression) into `destination` after checking every member.

    Extraction goes to a temporary folder beside `destination` first, so an interrupted run leaves no half
    tree in place; the top-level entries are then moved in. Returns `destination`.

    Example:
        >>> safe_extract("amazon_review_polarity_csv.tgz", "~/.cache/tfsenti/datasets/amazon")  # doctest: +SKIP
    """
    archive, destination = Path(archive), Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            check_member(member, archive)
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=destination))
        try:
            try:
                tar.extractall(staging, members=members, filter="data")
            except tarfile.FilterError as error:
                raise UnsafeArchiveError(f"Unsafe member in {archive}: {error}") from error
            for entry in staging.iterdir():
                target = destination / entry.name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists() or target.is_symlink():
                    target.unlink()
                os.replace(entry, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return destination
