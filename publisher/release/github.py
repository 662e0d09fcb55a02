"""The GitHub Actions side of a release: context, step outputs, job summary, annotations.

Everything here follows GitHub's documented workflow-command and environment-file formats:

- annotations: `::error file=F,line=L,col=C,title=T::message` on stdout; in the message `%`,
  `\\r` and `\\n` are escaped as `%25`, `%0D`, `%0A`; in property values also `:` (`%3A`) and
  `,` (`%2C`);
- outputs: `name=value` lines appended to `$GITHUB_OUTPUT`, or for a multi-line value the
  heredoc form `name<<DELIMITER` … `DELIMITER` with a delimiter the value does not contain;
- the job summary: Markdown appended to `$GITHUB_STEP_SUMMARY`.

Nothing written here may carry a token: `Scrubber` replaces every known secret value.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from publisher.errors import UsageError
from publisher.findings import Finding, Severity
from publisher.report import printable

TAG_REF_PREFIX = "refs/tags/"
SECRET_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_ID_TOKEN")
_MIN_SECRET = 8  # shorter values are not tokens; replacing them would mangle ordinary text
_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass
class GitHubContext:
    """What a run knows about where it runs: from GITHUB_* variables, overridden by flags."""

    actions: bool = False
    ref: str | None = None
    ref_name: str | None = None
    sha: str | None = None
    output: Path | None = None
    summary: Path | None = None
    workspace: Path | None = None
    server_url: str = "https://github.com"
    repository: str | None = None
    run_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GitHubContext:
        env = os.environ if env is None else env

        def path(name: str) -> Path | None:
            value = env.get(name)
            return Path(value) if value else None

        return cls(
            actions=env.get("GITHUB_ACTIONS") == "true",
            ref=env.get("GITHUB_REF") or None,
            ref_name=env.get("GITHUB_REF_NAME") or None,
            sha=env.get("GITHUB_SHA") or None,
            output=path("GITHUB_OUTPUT"),
            summary=path("GITHUB_STEP_SUMMARY"),
            workspace=path("GITHUB_WORKSPACE"),
            server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
            repository=env.get("GITHUB_REPOSITORY") or None,
            run_id=env.get("GITHUB_RUN_ID") or None,
        )

    @property
    def ref_tag(self) -> str | None:
        """The tag this run was triggered by (GITHUB_REF=refs/tags/…), else None."""
        if self.ref and self.ref.startswith(TAG_REF_PREFIX):
            return self.ref_name or self.ref[len(TAG_REF_PREFIX) :]
        return None

    @property
    def run_url(self) -> str | None:
        if self.repository and self.run_id:
            return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return None


@dataclass
class Scrubber:
    """Replaces secret values (tokens) with `***` in any text about to be written."""

    values: set[str] = field(default_factory=set)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Scrubber:
        env = os.environ if env is None else env
        scrubber = cls()
        scrubber.add(*(env.get(name) for name in SECRET_ENV))
        return scrubber

    def add(self, *values: str | None) -> None:
        for value in values:
            if value and len(value) >= _MIN_SECRET:
                self.values.add(value)

    def __call__(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


# ---- annotations --------------------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped (GitHub's escapeData); other
    control characters (ESC, NUL, bidi overrides) escaped as the CLI prints them."""
    if not text.isprintable():
        text = "".join(ch if ch in "\r\n" else printable(ch) for ch in text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: escape_data plus `:` and `,` (escapeProperty)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, properties: Mapping[str, object] | None = None) -> str:
    """One workflow command line, e.g. `::error file=a.yaml,line=3::bad value`."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None and value != ""
    )
    head = f"::{name} {props}" if props else f"::{name}"
    return f"{head}::{escape_data(message)}"


LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def annotation(finding: Finding, file: str | None) -> str:
    """The annotation for a finding; `file` is its path relative to the workspace (or None,
    when the finding points at something outside the repository, e.g. a checkpoint shard)."""
    loc = finding.location
    message = finding.message
    if loc.pointer:
        message = f"{message} [{loc.pointer}]"
    if file is None and loc.file:
        message = f"{loc.file}: {message}"
    props: dict[str, object] = {"file": file}
    if file is not None and loc.line is not None:
        props["line"] = loc.line
        if loc.column is not None:
            props["col"] = loc.column
    props["title"] = finding.code
    return command(LEVELS.get(finding.severity, "notice"), message, props)


# ---- outputs and summary ------------------------------------------------------------------


def format_output(name: str, value: str) -> str:
    """One `$GITHUB_OUTPUT` entry: `name=value`, or the heredoc form for a multi-line value."""
    if not _OUTPUT_NAME.match(name):
        raise UsageError(f"invalid output name {name!r}")
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:  # vanishingly unlikely, but the format requires it
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: Path | None, values: Mapping[str, str], scrub: Scrubber) -> None:
    """Append outputs to the `$GITHUB_OUTPUT` file (nothing when there is none)."""
    if path is None:
        return
    text = "".join(format_output(name, scrub(value)) for name, value in values.items())
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def append_summary(path: Path | None, markdown: str, scrub: Scrubber) -> None:
    """Append Markdown to the job summary file (nothing when there is none)."""
    if path is None:
        return
    with path.open("a", encoding="utf-8") as handle:
        handle.write(scrub(markdown))
        if not markdown.endswith("\n"):
            handle.write("\n")
