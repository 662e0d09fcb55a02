"""Publish a spec's card and a checkpoint to the Hub: gate, plan, upload, one commit, tag.

1. Gate: lint and render the spec; with a checkpoint, validate it against the spec. Any error
   stops the push before a single request is sent.
2. Plan: every file with its size, sha256 (from the hash cache when the file is unchanged),
   LFS or regular, and its state against the remote revision's head (new, changed, unchanged).
3. Upload: LFS objects first (the Hub skips objects it already has, so an interrupted push
   resumes), then exactly one commit with every change, on the head the plan was made against
   (`parent_commit`), so a concurrent writer makes the commit fail instead of being overwritten.
4. Tag the commit, if asked.

With --create-pr, a re-run does not open a second pull request: the plan is made against the
newest open pull request publisher opened for the same spec and branch (see pulls.py). If one
already holds exactly these files, nothing is sent; if one differs, the push commits to its
ref (refs/pr/N) so that pull request updates; if there is none, a new one is opened.

`push()` runs it all; `Pusher` exposes the phases (tests step between them).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from publisher import __version__
from publisher.errors import HubError, UsageError
from publisher.findings import Finding
from publisher.hub.allowlist import card_images
from publisher.hub.client import (
    check_repo_id,
    hub_errors,
    make_api,
    require_token,
    resolve_token,
)
from publisher.hub.hashcache import (
    FileDigest,
    HashCache,
    HashStats,
    digest_bytes,
    hash_files,
    pending_bytes,
)
from publisher.hub.metering import Meter, MeteredFile, xet_in_use
from publisher.hub.plan import (
    LocalFile,
    Plan,
    PlannedFile,
    RemoteState,
    Skipped,
    collect_publishable,
    human_bytes,
    make_plan,
    patterns_from,
    read_sample,
)
from publisher.hub.pulls import (
    PullRequest,
    PullRequestAction,
    commit_description,
    publisher_pull_requests,
)
from publisher.hub.push_types import Gate, Progress, PushOptions, PushResult, QuietProgress
from publisher.hub.remote_state import (
    DEFAULT_BRANCH,
    download_small,
    fetch_pull_request,
    fetch_remote,
)
from publisher.hub.secret_scan import SCAN_LIMIT, findings_for, is_text, scan_files

if TYPE_CHECKING:
    from huggingface_hub import CommitInfo, CommitOperationAdd, HfApi

    from publisher.auditview.publish import PublishedMap
    from publisher.card.facts import CheckpointFacts
    from publisher.card.verify_facts import CardSigner
    from publisher.provenance.keys import SigningMaterial
    from publisher.spec.loader import LoadedSpec

CARD_FILE = "README.md"
AUDIT_FILE = "quantization_audit.json"
MAP_FILE = "precision_map.svg"  # = publisher.auditview.MAP_FILE (that module loads on demand)
_AGAIN = "run the push again: it sends only what is still missing"


def validate(loaded: LoadedSpec, checkpoint: Path) -> tuple[list[Finding], dict[str, Any]]:
    """Findings and the audit manifest (quantization_audit.json) of a checkpoint checked
    against the spec."""
    from publisher.checkpoint.validate import validate_checkpoint

    report = validate_checkpoint(loaded, checkpoint)
    return list(report.findings), dict(report.manifest)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """quantization_audit.json, byte-stable for the same manifest (so a re-push is a no-op)."""
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()


class Pusher:
    """One push, phase by phase: `gate()`, `plan(gate)`, `publish(plan)`."""

    def __init__(
        self,
        spec_path: Path,
        checkpoint_dir: Path | None = None,
        *,
        extra_files: Path | None = None,
        options: PushOptions | None = None,
        token: str | None = None,
        endpoint: str | None = None,
        progress: Progress | None = None,
        cache: HashCache | None = None,
        signing: SigningMaterial | None = None,
    ):
        self.spec_path = Path(spec_path)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.extra_files = Path(extra_files) if extra_files else None
        self.options = options or PushOptions()
        self.options.check()
        self.token = resolve_token(token)
        self.endpoint = endpoint
        self.progress: Progress = progress or QuietProgress()
        self.cache = cache
        self.hash_stats = HashStats()
        self.repo_id = self.options.repo_id or ""
        self._meter = Meter()
        self._tag_target: str | None = None
        self._api: HfApi | None = None
        self.signing = signing  # sign the published files into model.sig (same commit)
        self.signer: str | None = None
        self.signing_notes: list[str] = []

    # ---- gate ---------------------------------------------------------------------------

    def gate(self) -> Gate:
        """Lint and render the spec; validate the checkpoint. Sends nothing."""
        from publisher.card.pipeline import checkpoint_facts, render_spec

        facts = checkpoint_facts(self.checkpoint_dir) if self.checkpoint_dir else None
        drawn = None
        if self.options.precision_map:
            drawn, facts = self._precision_map(facts)
        result = render_spec(self.spec_path, checkpoint=facts, signer=self._card_signer())
        gate = Gate(list(result.findings), unusable=result.unusable)
        gate.precision_map = drawn.data if drawn is not None else None
        if result.text is None or result.spec is None:
            return gate
        if self.checkpoint_dir is not None:
            findings, gate.manifest = validate(result.loaded, self.checkpoint_dir)
            gate.findings += findings
        gate.card = result.text
        self.repo_id = check_repo_id(self.options.repo_id or result.spec.repo_id)
        return gate

    def _precision_map(
        self, facts: CheckpointFacts | None
    ) -> tuple[PublishedMap | None, CheckpointFacts | None]:
        """precision_map.svg of the local checkpoint, else of the weights already on the Hub
        (then their sizes are the card's checkpoint facts too), and the facts linking it."""
        from dataclasses import replace

        from publisher.auditview.publish import precision_map_for, precision_map_on_hub
        from publisher.card.facts import CheckpointFacts
        from publisher.errors import CheckpointError
        from publisher.spec.loader import load_spec

        title = self.spec_path.stem
        if self.checkpoint_dir is not None and facts is not None:
            drawn = precision_map_for(self.checkpoint_dir, title)
            return drawn, replace(facts, precision_map=(drawn.path, drawn.alt))
        spec = load_spec(self.spec_path).spec
        if spec is None and not self.options.repo_id:
            return None, facts  # the render says what is wrong with the spec
        repo_id = check_repo_id(self.options.repo_id or (spec.repo_id if spec else ""))
        nothing = UsageError(
            f"--precision-map draws the map of a checkpoint: give CHECKPOINT, or push the"
            f" weights to {repo_id} first"
        )
        with hub_errors(f"reading {repo_id}", repo_id=repo_id, token=self.token):
            exists = make_api(self.token or False, self.endpoint).repo_exists(repo_id)
        if not exists:
            raise nothing
        try:
            drawn, total, files = precision_map_on_hub(
                repo_id, self.options.revision, title, token=self.token, endpoint=self.endpoint
            )
        except CheckpointError:
            raise nothing from None
        return drawn, CheckpointFacts(total, files, (drawn.path, drawn.alt))

    # ---- plan ---------------------------------------------------------------------------

    def plan(self, gate: Gate) -> Plan:
        """Hash the local files and compare them with the remote revision. Reads only."""
        if gate.blocked or gate.card is None:
            raise UsageError("the checks failed: nothing to plan")
        remote = self._fetch_remote()  # first: a refused token fails before any hashing
        files, skipped = self._local_files(gate)
        plan = self._plan_against(remote, files, skipped)
        if self.signing is not None:
            files, skipped = self._sign(files, skipped, plan)
            plan = self._plan_against(remote, files, skipped)
        if self.options.create_pr and remote.branch_exists and not plan.up_to_date:
            plan = self._plan_for_pull_request(plan, files, skipped)
        return plan

    def _card_signer(self) -> CardSigner | None:
        if self.signing is None:
            return None
        from publisher.provenance.publish import card_signer

        return card_signer(self.signing, self.options.tag)

    def _sign(
        self, files: list[LocalFile], skipped: list[Skipped], plan: Plan
    ) -> tuple[list[LocalFile], list[Skipped]]:
        """Add model.sig, signing every file of the resulting revision (see provenance)."""
        from publisher.provenance.publish import sign_push_files

        assert self.signing is not None
        if self.options.dry_run and self.signing.sigstore:
            self.signing_notes.append("a real push signs the files keylessly (Sigstore) here")
            return files, skipped

        def download(path: str) -> bytes:
            assert plan.remote.head is not None
            with hub_errors(f"reading {path}", repo_id=self.repo_id, token=self.token):
                return download_small(
                    self.repo_id, path, plan.remote.head, token=self.token,
                    endpoint=self.endpoint,
                )  # fmt: skip

        self.progress.note("signing the published files (model.sig)")
        signed = sign_push_files(files, plan, self.signing, self.repo_id.split("/")[-1], download)
        sig = signed.signature
        self.signer = sig.signer
        what = "kept the signature on the Hub" if sig.reused else "signed"
        self.signing_notes += [f"{what}: {sig.signed_files} file(s), {sig.signer}", *signed.notes]
        return signed.files, [*skipped, *signed.skipped]

    def _plan_against(
        self, remote: RemoteState, files: list[LocalFile], skipped: list[Skipped]
    ) -> Plan:
        plan = self._compare(files, remote, skipped, patterns_from(None))
        if plan.changes and ".gitattributes" not in {f.path for f in files}:
            gitattributes = self._remote_gitattributes(remote)
            if gitattributes is not None:
                plan = self._compare(files, remote, skipped, patterns_from(gitattributes))
        return plan

    def _plan_for_pull_request(
        self, target: Plan, files: list[LocalFile], skipped: list[Skipped]
    ) -> Plan:
        """The plan against an open pull request of ours that already holds these files,
        else against the newest one (the push updates it), else `target` (it opens one)."""
        plans = []
        for pull_request in self._own_pull_requests(target.remote.revision):
            plan = self._plan_against(self._fetch_pull_request(pull_request), files, skipped)
            if plan.up_to_date:
                return plan
            plans.append(plan)
        return plans[0] if plans else target

    def _own_pull_requests(self, branch: str) -> list[PullRequest]:
        api = make_api(self.token, self.endpoint)  # reads only: a dry run needs no token
        with hub_errors(
            f"reading the pull requests of {self.repo_id}", repo_id=self.repo_id, token=self.token
        ):
            return publisher_pull_requests(api, self.repo_id, branch, self.spec_path.name)

    def _fetch_pull_request(self, pull_request: PullRequest) -> RemoteState:
        with hub_errors(
            f"reading pull request #{pull_request.num}", repo_id=self.repo_id, token=self.token
        ):
            return fetch_pull_request(
                self.repo_id, pull_request, token=self.token, endpoint=self.endpoint
            )

    def _compare(
        self,
        files: list[LocalFile],
        remote: RemoteState,
        skipped: list[Skipped],
        patterns: list[str],
    ) -> Plan:
        local = next((f for f in files if f.path == ".gitattributes"), None)
        if local is not None:
            patterns = patterns_from(_content(local))
        return make_plan(
            files, remote, patterns=patterns, skipped=skipped, delete=self.options.delete
        )

    def _local_files(self, gate: Gate) -> tuple[list[LocalFile], list[Skipped]]:
        assert gate.card is not None
        generated = {CARD_FILE: gate.card.encode()}
        if gate.manifest is not None:
            generated[AUDIT_FILE] = manifest_bytes(gate.manifest)
        if gate.precision_map is not None:
            generated[MAP_FILE] = gate.precision_map
        disk, skipped = self._disk_files(set(generated), card_images(gate.card))
        digests = self._hash([path for path, _ in disk.values()])
        files = [_generated_file(path, data) for path, data in generated.items()]
        for rel, (path, origin) in disk.items():
            files.append(_disk_file(rel, path, digests[path], origin))
        return files, skipped

    def _disk_files(
        self, reserved: set[str], images: frozenset[str]
    ) -> tuple[dict[str, tuple[Path, str]], list[Skipped]]:
        """What the folders offer: only what a model repository holds (allowlist.py), the
        pictures the card shows, and what --include names (its origin says which pattern)."""
        disk: dict[str, tuple[Path, str]] = {}
        skipped: list[Skipped] = []
        folders = (("checkpoint", self.checkpoint_dir), ("extra", self.extra_files))
        for origin, folder in folders:
            if folder is None:
                continue
            found = collect_publishable(folder, include=self.options.include, images=images)
            skipped += found.skipped
            for rel, path in found.files:
                if rel in reserved:
                    skipped.append(Skipped(rel, f"replaced by the generated {rel}"))
                elif rel in disk:
                    skipped.append(Skipped(rel, "also in the checkpoint folder, which wins"))
                else:
                    pattern = found.included.get(rel)
                    disk[rel] = (path, f"--include {pattern}" if pattern else origin)
        return disk, skipped

    def secret_findings(self, plan: Plan) -> list[Finding]:
        """PUSH101 for every token-like string in a small text file the plan would publish
        (the generated card and manifest too); read before anything is sent."""
        sources: dict[str, str] = {}
        contents: list[tuple[str, bytes]] = []
        for planned in plan.files:
            local = planned.local
            if local.size >= SCAN_LIMIT or not is_text(local.sample):
                continue
            sources[local.path] = str(local.source) if local.source else local.path
            contents.append((local.path, _content(local)))
        return findings_for(scan_files(contents), sources)

    def _hash(self, paths: list[Path]) -> dict[Path, FileDigest]:
        cache = self.cache or HashCache()
        total = pending_bytes(paths, cache)
        if total:
            self.progress.note(
                f"hashing {human_bytes(total)} (unchanged files come from the cache)"
            )
        with self.progress.task("hashing", total) as advance:
            digests, self.hash_stats = hash_files(paths, cache, advance=advance)
        return digests

    def _fetch_remote(self) -> RemoteState:
        with hub_errors(f"reading {self.repo_id}", repo_id=self.repo_id, token=self.token):
            return fetch_remote(
                self.repo_id, self.options.revision, token=self.token, endpoint=self.endpoint
            )

    def _remote_gitattributes(self, remote: RemoteState) -> bytes | None:
        if ".gitattributes" not in remote.files or remote.head is None:
            return None
        with hub_errors(f"reading {self.repo_id}", repo_id=self.repo_id, token=self.token):
            return download_small(
                self.repo_id, ".gitattributes", remote.head, token=self.token,
                endpoint=self.endpoint,
            )  # fmt: skip

    # ---- publish ------------------------------------------------------------------------

    def publish(self, plan: Plan) -> PushResult:
        """Create the repo if needed, upload, commit once, tag. Raises HubError (exit 3).
        With nothing to change and no tag to add, sends nothing (and needs no HfApi)."""
        result = PushResult("up-to-date", plan=plan, hash_stats=self.hash_stats)
        result.notes += self._private_note(plan.remote)
        self._check_pr_target(plan.remote)
        self._check_tag(plan)
        if not plan.remote.exists:
            plan = result.plan = self._create_repo(plan)
            result.created_repo = True
        result.pull_request, result.pr_action = plan.remote.pull_request, self.pr_action(plan)
        if not plan.up_to_date:
            self._send(plan, result)
        elif result.pr_action == "reuse":
            result.status = "already-proposed"
        head = result.commit or plan.remote.head
        if self.options.tag and head:
            result.tag, result.tag_state = self.options.tag, self._apply_tag(head)
        return result

    def pr_action(self, plan: Plan) -> PullRequestAction | None:
        """What this push does about pull requests, given its plan (None: no --create-pr)."""
        if not self.options.create_pr:
            return None
        if plan.remote.pull_request is not None:
            return "reuse" if plan.up_to_date else "update"
        return None if plan.up_to_date else "open"

    def _opens_pr(self, plan: Plan) -> bool:
        """Whether the commit opens a pull request (not when it goes to one's ref)."""
        return self.options.create_pr and plan.remote.pull_request is None

    @property
    def api(self) -> HfApi:
        """The HfApi for writes (imported and built on first use; needs a token)."""
        if self._api is None:
            self._api = make_api(require_token(self.token, self.repo_id), self.endpoint)
        return self._api

    def _check_pr_target(self, remote: RemoteState) -> None:
        """A pull request needs an existing target branch (main exists once created)."""
        if (
            self.options.create_pr
            and not remote.branch_exists
            and remote.revision != DEFAULT_BRANCH
        ):
            raise UsageError(
                f"--create-pr: branch {remote.revision} does not exist in {self.repo_id}",
                fix="push to it without --create-pr first, or target an existing branch",
            )

    def _private_note(self, remote: RemoteState) -> list[str]:
        if self.options.private and remote.exists and remote.private is False:
            return [f"--private applies when creating; {self.repo_id} exists and stays public"]
        return []

    def _create_repo(self, plan: Plan) -> Plan:
        self.progress.note(f"creating {'private' if self.options.private else 'public'} "
                           f"repository {self.repo_id}")  # fmt: skip
        with self._errors(f"creating {self.repo_id}"):
            self.api.create_repo(self.repo_id, private=self.options.private, exist_ok=True)
        remote = self._fetch_remote()
        files = [f.local for f in plan.files]
        return self._compare(files, remote, plan.skipped, patterns_from(None))

    def _send(self, plan: Plan, result: PushResult) -> None:
        with ExitStack() as stack:
            additions = [self._addition(f, stack) for f in plan.changes]
            self._ensure_branch(plan)
            result.uploaded_bytes = self._upload(plan, additions)
            info = self._commit(plan, additions)
        result.status = "committed"
        result.commit, result.commit_url = info.oid, info.commit_url
        if info.pr_url and info.pr_num is not None:
            result.pull_request = PullRequest(info.pr_num, info.pr_url)

    def _addition(self, planned: PlannedFile, stack: ExitStack) -> CommitOperationAdd:
        from huggingface_hub import CommitOperationAdd

        local = planned.local
        if local.source is None:
            return CommitOperationAdd(local.path, _content(local))
        op = CommitOperationAdd(local.path, str(local.source))
        op.upload_info.sha256 = bytes.fromhex(local.sha256)  # known: the file is not read again
        if not xet_in_use():  # Xet streams paths itself; plain LFS reads our counted file
            op.path_or_fileobj = stack.enter_context(MeteredFile(local.source, self._meter))
        return op

    def _ensure_branch(self, plan: Plan) -> None:
        remote = plan.remote
        if remote.branch_exists:
            return
        self.progress.note(f"creating branch {remote.revision} from {str(remote.head)[:7]}")
        with self._errors(f"creating branch {remote.revision}"):
            self.api.create_branch(self.repo_id, branch=remote.revision, revision=remote.head)

    def _upload(self, plan: Plan, additions: list[CommitOperationAdd]) -> int | None:
        lfs = [f for f in plan.changes if f.mode == "lfs"]
        total = sum(f.local.size for f in lfs)
        if lfs:
            self.progress.note(f"uploading up to {len(lfs)} LFS objects ({human_bytes(total)})")
        revision = plan.remote.revision
        with (
            self.progress.task("uploading", total) as advance,
            self._errors("uploading files", "; nothing was committed"),
        ):
            self._meter.advance, self._meter.enabled = advance, True
            try:
                self.api.preupload_lfs_files(
                    self.repo_id,
                    additions=additions,
                    revision=revision,
                    create_pr=self._opens_pr(plan),
                    free_memory=False,
                )
            finally:
                self._meter.enabled = False
        return None if xet_in_use() else self._meter.bytes

    def _commit(self, plan: Plan, additions: list[CommitOperationAdd]) -> CommitInfo:
        from huggingface_hub import CommitOperationDelete

        deletions = [CommitOperationDelete(path) for path in plan.deletions]
        title, description = self._message(plan)
        with self._errors(f"committing to {self.repo_id}", "; nothing was committed"):
            return self.api.create_commit(
                self.repo_id,
                operations=[*additions, *deletions],
                commit_message=title,
                commit_description=description,
                revision=plan.remote.revision,
                create_pr=self._opens_pr(plan),
                parent_commit=plan.remote.head,
            )

    def _message(self, plan: Plan) -> tuple[str, str]:
        tool = f"publisher {__version__}"
        title = self.options.message or f"Publish {self.spec_path.name} ({tool})"
        return title, commit_description(self.spec_path.name, tool, plan.summary())

    def _errors(self, action: str, after: str = "") -> AbstractContextManager[None]:
        return hub_errors(action, repo_id=self.repo_id, token=self.token, after=after, again=_AGAIN)

    # ---- tag ----------------------------------------------------------------------------

    def _check_tag(self, plan: Plan) -> None:
        """Refuse, before sending anything, a tag that already names another commit."""
        tag = self.options.tag
        if not tag or not plan.remote.exists:
            return
        target = self._tag_commit(tag)
        self._tag_target = target
        if target is None or (plan.up_to_date and target == plan.remote.head):
            return
        raise HubError(
            f"tag {tag} already exists in {self.repo_id} on commit {target[:7]}, "
            "not on the commit this push makes; nothing was sent",
            fix="choose a new version tag",
        )

    def _tag_commit(self, tag: str) -> str | None:
        with hub_errors(f"reading the tags of {self.repo_id}", repo_id=self.repo_id):
            refs = self.api.list_repo_refs(self.repo_id)
        return next((t.target_commit for t in refs.tags if t.name == tag), None)

    def _apply_tag(self, commit: str) -> Literal["created", "present"]:
        tag = str(self.options.tag)
        if self._tag_target == commit:
            return "present"
        try:
            with hub_errors(f"tagging {commit[:7]} as {tag}", repo_id=self.repo_id):
                self.api.create_tag(self.repo_id, tag=tag, revision=commit, tag_message=tag)
        except HubError:
            if self._tag_commit(tag) != commit:  # e.g. created meanwhile elsewhere
                raise
            return "present"
        return "created"


# ---- helpers ----------------------------------------------------------------------------


def _content(local: LocalFile) -> bytes:
    if local.content is not None:
        return local.content
    assert local.source is not None
    return local.source.read_bytes()


def _generated_file(path: str, data: bytes) -> LocalFile:
    digest = digest_bytes(data)
    return LocalFile(
        path, digest.size, digest.sha256, digest.git_sha1, data[:512], content=data,
        origin="generated",
    )  # fmt: skip


def _disk_file(rel: str, path: Path, digest: FileDigest, origin: str) -> LocalFile:
    return LocalFile(
        rel, digest.size, digest.sha256, digest.git_sha1, read_sample(path), source=path,
        origin=origin,
    )  # fmt: skip


def push(
    spec_path: Path,
    checkpoint_dir: Path | None = None,
    *,
    extra_files: Path | None = None,
    repo_id: str | None = None,
    revision: str | None = None,
    create_pr: bool = False,
    private: bool = False,
    tag: str | None = None,
    message: str | None = None,
    delete: tuple[str, ...] = (),
    dry_run: bool = False,
    include: tuple[str, ...] = (),
    token: str | None = None,
    endpoint: str | None = None,
    progress: Progress | None = None,
    precision_map: bool = False,
    signing: SigningMaterial | None = None,
) -> PushResult:
    """Gate, plan and (unless `dry_run`) publish. With `signing`, the published files (and
    any the revision keeps) are signed into model.sig, which goes in the same commit.

    `checkpoint_dir` is validated against the spec and published with the card and the
    audit manifest (and, with `precision_map`, precision_map.svg, which the card embeds, drawn
    from the checkpoint or, without one, from the weights already on the Hub); `extra_files`
    is a folder published without validation. Of both, only
    what a model repository holds is published, plus what an `include` pattern names; a
    token-like string in any text file blocks the push (PUSH101). The
    token comes from `token`, else HF_TOKEN, else the stored login. Returns a PushResult
    (status "blocked" when a check failed: nothing was sent); raises HubError (exit 3) when
    the Hub or the network fails, InputError/UsageError (exit 2) for unusable input.
    """
    options = PushOptions(
        repo_id,
        revision,
        create_pr,
        private,
        tag,
        message,
        delete,
        dry_run,
        include,
        precision_map=precision_map,
    )
    pusher = Pusher(
        spec_path, checkpoint_dir, extra_files=extra_files, options=options, token=token,
        endpoint=endpoint, progress=progress, signing=signing,
    )  # fmt: skip
    gate = pusher.gate()
    if gate.blocked:
        return PushResult("blocked", findings=gate.findings, unusable=gate.unusable)
    if not dry_run:
        require_token(pusher.token, pusher.repo_id)  # before hashing gigabytes
    plan = pusher.plan(gate)
    leaks = pusher.secret_findings(plan)
    if leaks:  # nothing was sent: a secret never reaches the Hub, not even in a dry run's plan
        return PushResult("blocked", findings=gate.findings + leaks)
    if dry_run:
        return PushResult("dry-run", findings=gate.findings, plan=plan,
                          pull_request=plan.remote.pull_request, pr_action=pusher.pr_action(plan),
                          hash_stats=pusher.hash_stats, uploaded_bytes=0,
                          notes=list(pusher.signing_notes), signer=pusher.signer)  # fmt: skip
    result = pusher.publish(plan)
    result.findings = gate.findings
    result.notes += pusher.signing_notes
    result.signer = pusher.signer
    return result
