"""The card that stands now, to compare a fresh render with: the README the Hub serves, the
card a git revision of this repository renders to, or a file."""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from publisher.errors import HubError, InputError, UsageError

HUB = "hub"


@dataclass(frozen=True)
class Against:
    """What cards are compared with: `kind` is hub, rev or file."""

    kind: str
    value: str
    commit: str | None = None

    @property
    def label(self) -> str:
        if self.kind == HUB:
            return "the Hub"
        if self.kind == "rev":
            return f"{self.value} ({(self.commit or '')[:7]})"
        return self.value


def parse_against(value: str, root: Path) -> Against:
    """`hub`, an existing file, or a git revision of the repository at `root`."""
    if value == HUB:
        return Against(HUB, HUB)
    if Path(value).is_file():
        return Against("file", value)
    from publisher.release.tags import git

    try:
        commit = git(root, "rev-parse", "--verify", "--quiet", f"{value}^{{commit}}").strip()
    except InputError:
        commit = ""
    if not commit:
        raise UsageError(
            f"--against {value} is neither 'hub', a file, nor a revision of the git repository "
            f"at {root}",
            fix="give --against hub, a card file, or a commit, branch or tag",
        )
    return Against("rev", value, commit)


def hub_card(repo_id: str, *, private: bool, token: str | None = None) -> str | None:
    """The README.md the Hub serves on the repository's main branch, in one request; None when
    the repository or its README does not exist yet. Anonymous for a public repository; a
    private one (hub.private in the spec) is read with the token."""
    from publisher.card.remote_card import read_remote_text
    from publisher.hub.client import resolve_token

    credential = resolve_token(token) if private else None
    if private and not credential:
        raise HubError(
            f"{repo_id} is private (hub.private: true) and no Hugging Face token was found",
            fix="set HF_TOKEN to a token that can read it",
        )
    return read_remote_text(
        repo_id, "README.md", None, token=credential, anonymous=not private, missing_repo_ok=True
    )


def file_card(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the card: {error}", where=str(path)) from None


class RevisionTree:
    """The repository's files at a commit, unpacked once into a temporary folder (git archive),
    so that a spec can be rendered as it stood there, with the family files and templates of
    that commit."""

    def __init__(self, root: Path, commit: str):
        self.root, self.commit = root, commit
        self._dir = tempfile.TemporaryDirectory(prefix="publisher-diff-")
        self.path = Path(self._dir.name)
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", commit],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            detail = " ".join(archive.stderr.decode(errors="replace").split())
            raise InputError(f"git archive {commit[:7]} failed: {detail}", where=str(root))
        import io

        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(self.path, filter="data")

    def spec_at(self, spec: Path) -> Path | None:
        """Where `spec` (a path in the work tree) lies in this commit; None if it did not exist."""
        try:
            relative = spec.resolve().relative_to(self.root)
        except ValueError:
            return None
        candidate = self.path / relative
        return candidate if candidate.is_file() else None

    def close(self) -> None:
        self._dir.cleanup()
