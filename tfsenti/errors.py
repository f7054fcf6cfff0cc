"""Exceptions raised by tfsenti; every one says what was wrong and how to fix it.

Example:
    >>> try:
    ...     raise DataError("label must be 0 or 1", path="train.txt", line=7)
    ... except TfsentiError as error:
    ...     print(error)
    train.txt:7: label must be 0 or 1
"""

from __future__ import annotations


class TfsentiError(Exception):
    """Base class: the CLI prints these without a stack trace."""


class ConfigError(TfsentiError, ValueError):
    """A configuration key is unknown, has the wrong type, or an invalid value."""


class DataError(TfsentiError, ValueError):
    """A data file is malformed; carries the file and line when known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path, self.line, self.reason = path, line, message
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(where + message)


class DatasetNotFoundError(TfsentiError, FileNotFoundError):
    """The dataset files are not present and could not be downloaded."""


class NotFittedError(TfsentiError, RuntimeError):
    """A recipe was used before `fit`."""
