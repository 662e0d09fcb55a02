"""Exclude/ignore patterns as each producer writes them, compiled into one predicate, with
the regexes that are unsafe to run (nested repetition can take exponential time) refused."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any, Literal

MatchStyle = Literal["fnmatch", "compressed-tensors", "transformers"]


def compile_matcher(
    patterns: tuple[str, ...], style: MatchStyle
) -> tuple[Callable[[str], bool], list[str]]:
    """A predicate for `patterns` under `style`, and the patterns that failed to compile."""
    if style == "fnmatch":
        if not patterns:
            return (lambda _name: False), []
        # ModelOpt lists mostly exact names: a set lookup for those, one regex for the globs.
        literal = {p for p in patterns if not any(ch in p for ch in "*?[")}
        globs = [p for p in patterns if p not in literal]
        joined = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in globs) or "(?!)")
        return (lambda name: name in literal or joined.match(name) is not None), []
    bad: list[str] = []
    regexes: list[re.Pattern[str]] = []
    exact: set[str] = set()
    suffixes: list[str] = []
    for pattern in patterns:
        body = pattern
        if style == "compressed-tensors":
            if not pattern.startswith("re:"):
                exact.add(pattern)
                continue
            body = pattern.removeprefix("re:")
        else:
            suffixes.append(pattern)
            body = rf"(?:{pattern})(?:(?<=\.)|(?=\.|$))"
        try:
            regexes.append(re.compile(body))
        except (re.error, OverflowError, RecursionError):
            bad.append(pattern)
            continue
        if may_backtrack(body):
            regexes.pop()
            bad.append(pattern)

    def match(name: str) -> bool:
        if name in exact or any(name.endswith(s) for s in suffixes):
            return True
        return any(r.match(name) for r in regexes)

    return match, bad


def may_backtrack(pattern: str) -> bool:
    """Whether a regex nests unbounded repetition (`(.*)*x`, `(a+)+`) or repeats an
    alternation (`(a|aa)+`): Python's engine can take exponential time on such patterns, and a
    checkpoint's config (even one read from someone else's Hub repo) must not hang a check."""
    try:
        import re._parser as sre_parse  # the stdlib's own regex parser
    except ImportError:  # pragma: no cover - other Python versions
        return False
    from re._constants import BRANCH, MAX_REPEAT, MAXREPEAT, MIN_REPEAT

    def walk(items: Any, inside_repeat: bool) -> bool:
        for op, arg in items:
            if op in (MAX_REPEAT, MIN_REPEAT):
                _low, high, sub = arg
                unbounded = high == MAXREPEAT or high > 100
                if unbounded and inside_repeat:
                    return True
                if walk(sub, inside_repeat or unbounded):
                    return True
            elif op is BRANCH:
                if inside_repeat:
                    return True
                if any(walk(branch, inside_repeat) for branch in arg[1]):
                    return True
            elif isinstance(arg, tuple | list):
                for part in arg:
                    if isinstance(part, sre_parse.SubPattern | list) and walk(part, inside_repeat):
                        return True
        return False

    try:
        return walk(sre_parse.parse(pattern), False)
    except Exception:  # compiled fine a moment ago; be safe
        return True
