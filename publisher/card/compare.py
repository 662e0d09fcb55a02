"""Compare a card as rendered now with a card as it stands (a file, a git revision, the Hub)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class CardDiff:
    """What a card would change: `old` is what stands now (None: no card yet), `new` the render."""

    old_label: str
    new_label: str
    old: str | None
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def unified(self, context: int = 3) -> str:
        """A unified diff of the card text (empty when nothing changes)."""
        if not self.changed:
            return ""
        old_lines = (self.old or "").splitlines(keepends=True)
        new_lines = self.new.splitlines(keepends=True)
        lines = difflib.unified_diff(
            old_lines,
            new_lines,
            fromfile=self.old_label if self.old is not None else "/dev/null",
            tofile=self.new_label,
            n=context,
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
