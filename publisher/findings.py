"""One findings type for every check in the project: stable code, severity, message, location."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Location:
    """Where a finding points: a file, optionally a line and column, and a path inside it.

    `pointer` names the place inside the file when lines mean little: a spec key path
    (`quantization.components[2].count`), a tensor name, a shard.
    """

    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str | None = None

    def __str__(self) -> str:
        parts = [self.file or "-"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        text = ":".join(parts)
        if self.pointer:
            text += f" [{self.pointer}]"
        return text


@dataclass(frozen=True)
class Finding:
    """A single problem: `code` is stable (e.g. SPEC012) so users and auditors can cite it."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    severity: Severity = Severity.ERROR

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        data["location"] = {k: v for k, v in data["location"].items() if v is not None}
        return data

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.file or "", loc.line or 0, loc.column or 0, self.code, loc.pointer or "")


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)
