"""Every error publisher raises on purpose, with the exit code the CLI gives it.

Exit codes (documented in the README):
    0  all good
    1  findings: the input is readable but wrong
    2  unusable input or usage: file missing, YAML broken, bad arguments
    3  Hub or network failure
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_HUB = 3


class PublisherError(Exception):
    """Base class: one clear line for a person, and the exit code that goes with it."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.fix:
            text += f" ({self.fix})"
        return text


class UsageError(PublisherError):
    """Bad command-line arguments."""


class InputError(PublisherError):
    """A file is missing, unreadable or cannot be parsed at all."""


class SpecError(InputError):
    """A spec file cannot be loaded (YAML syntax, extends cycle, missing parent)."""


class TemplateError(InputError):
    """A card template cannot be loaded or rendered."""


class CheckpointError(InputError):
    """A checkpoint directory cannot be read at all."""


class HubError(PublisherError):
    """The Hub (or the network) refused or failed a request."""

    exit_code = EXIT_HUB
