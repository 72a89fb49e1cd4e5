"""Exceptions for user errors: each carries a one-line message naming what is wrong and where.

The command line prints ``CtasimError`` messages without a traceback and exits with status 2.
"""

from __future__ import annotations


class CtasimError(Exception):
    """Base class for errors caused by user input (configuration, scenario, files)."""


class ConfigError(CtasimError):
    """Invalid configuration or scenario value: message names file, key path, value, expectation."""

    def __init__(self, source: str, key: str, value: object, expected: str) -> None:
        self.source, self.key, self.value, self.expected = source, key, value, expected
        super().__init__(f"{source}: {key} = {value!r}: expected {expected}")

    @classmethod
    def about(cls, source: str, text: str) -> ConfigError:
        """An error of several keys together (a cross-check of the whole file): ``source: text``."""
        err = cls(source, "<root>", None, text)
        err.args = (f"{source}: {text}",)
        return err


class DataFileError(CtasimError):
    """A data file is missing, damaged, incomplete or of an incompatible version; ``kind`` (when
    known) is one of ``ctasim.io.verify.KINDS``: missing, truncated, corrupted, stale, mismatch."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
