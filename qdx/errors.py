"""Errors, warnings and issues.

Exception tree (raise only when no model can be built; everything recoverable is an
:class:`Issue`)::

    QdxError                      any failure qdx reports to a user
    ├── ReadError(ValueError)     input bytes cannot become a model
    │   ├── UnsafeInputError      hostile input refused (entities, zip slip, bombs)
    │   └── FormatError           unknown or unsupported format
    ├── WriteError                output cannot be written (the target is left as it was)
    │   └── InvalidOutputError    the output would not validate; ``issues`` says why
    ├── UsageError                a caller asked for something impossible (bad option value)
    │   └── UnknownNameError      a filter names a coder/set/code/case that does not exist
    └── MergeConflictError        merge(policy="fail") met conflicts (in qdx.ops.merge,
                                  next to the Conflict records it carries)

Warning tree (``warnings.warn``; filter them all with ``QdxWarning``)::

    UserWarning
    └── QdxWarning                any warning qdx emits
        └── LossyConversionWarning   a write had to drop or approximate something

Every error carries a one-line ``message`` and an optional ``location`` such as
``project.qde:412`` or ``Files.xlsx!B7``; ``str(err)`` joins them. Anything else escaping
qdx's public functions is a bug in qdx (tests/test_public_api.py checks every ``raise``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class QdxError(Exception):
    """Base of every error qdx raises on purpose."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        if not message:
            raise TypeError("QdxError needs a message")
        # One line: a CLI prints this as-is, so newlines would break the contract.
        self.message = " ".join(message.split())
        # Locations embed file and member names, which may hold newlines: show them escaped.
        self.location = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", location) if location else location
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ReadError(QdxError, ValueError):
    """The input cannot be read into a model."""


class UnsafeInputError(ReadError):
    """The input was refused because it looks hostile or exceeds a safety limit."""


class FormatError(ReadError):
    """The input's format is unknown or not supported."""


class WriteError(QdxError):
    """The output could not be written; the previous target file is intact."""


class InvalidOutputError(WriteError):
    """The output would not validate, so it was not written; ``issues`` lists the errors."""

    def __init__(self, message: str, *, issues: tuple[Issue, ...] = (), location: str | None = None) -> None:
        super().__init__(message, location=location)
        self.issues = issues


class UsageError(QdxError):
    """A caller asked for something that cannot be done (bad option values)."""


class UnknownNameError(UsageError):
    """A filter names a coder, set, code, case or variable the project does not have.

    ``known`` lists what exists and ``suggestions`` the close spellings (case-insensitive
    first); the message says both on one line.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        name: str,
        known: tuple[str, ...] = (),
        suggestions: tuple[str, ...] = (),
        location: str | None = None,
    ) -> None:
        super().__init__(message, location=location)
        self.kind = kind
        self.name = name
        self.known = known
        self.suggestions = suggestions


class NoDataError(QdxError):
    """A measure was asked of data that holds nothing to measure (agreement over no shared
    coded unit): there is no number to give, so none is made up."""


class PlaceholderCoderError(NoDataError):
    """A coder was chosen who is a placeholder qdx made for an unnamed coder (NVivo's merged
    ``References K-L``): which reference was whose is unknown, so any per-coder number would be
    made up (docs/rules.md "Placeholder users")."""


class Severity(enum.Enum):
    """How bad an :class:`Issue` is. Only ERROR makes a validation fail."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Issue:
    """A recoverable problem found while reading, validating or auditing.

    ``code`` is stable (e.g. ``QDX101``) so users can filter on it; ``location`` is
    ``file:line`` or a code path.
    """

    code: str
    severity: Severity
    message: str
    location: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location,
        }


class QdxWarning(UserWarning):
    """Base of every warning qdx emits, so one filter can silence or escalate them all."""


class LossyConversionWarning(QdxWarning):
    """A conversion had to drop or approximate something; the message says what."""
