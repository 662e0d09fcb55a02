"""The main job end to end on embedded defaults (what `make demo` runs):

lint the shipped specs → render their cards → build a real tiny Qwen3.5 and its genuine ModelOpt
NVFP4 export on the CPU → write its spec (`publisher init`) → validate → audit → start a local
Hub → push card, checkpoint and audit manifest in one tagged commit → push again (nothing to
do) → audit the pushed repo by range requests.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

DEMO_REPO = "publisher-demo/Tiny-Qwen3.5-NVFP4"
DEMO_TAG = "v0.1.0"


_PACKAGE = Path(__file__).resolve().parent
SHIPPED_SPECS = (
    _PACKAGE / "model_specs"  # an installed wheel carries them (pyproject force-include)
    if (_PACKAGE / "model_specs").is_dir()
    else _PACKAGE.parent / "model_specs"  # a source checkout's own
)


def specs_root(cwd: Path) -> Path:
    """The folder whose model_specs/ the demo lints and renders: the current one when it has
    model_specs/ (a publisher repository), else the specs publisher ships."""
    if (cwd / "model_specs").is_dir():
        return cwd
    return SHIPPED_SPECS.parent


def _say(step: str, text: str = "") -> None:
    print(f"\n== {step}" + (f": {text}" if text else ""))
    sys.stdout.flush()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_environment(workdir: Path, port: int) -> str:
    """The client reads HF_ENDPOINT at import: set it (and a private HF_HOME) before that."""
    if "huggingface_hub" in sys.modules:
        raise RuntimeError(
            "the demo must configure the Hub client before huggingface_hub is imported"
        )
    from publisher.localhub.server import DEMO_TOKEN

    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "HF_ENDPOINT": endpoint,
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(workdir / "hf-home"),
            "HF_TOKEN": DEMO_TOKEN,
            "PUBLISHER_CACHE_DIR": str(workdir / "cache"),
            "TRANSFORMERS_VERBOSITY": "error",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
    )
    return endpoint


def run_demo(workdir: Path, repo_root: Path) -> int:
    """Run every step in order; the first that fails ends the demo with exit code 1."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    endpoint = prepare_environment(workdir, port)
    specs = _lint_shipped_specs(repo_root)
    if specs is None:
        return 1
    cards = _render_cards(specs, workdir)
    checkpoint = _build_checkpoint(workdir)
    spec_path = _init_spec(checkpoint, workdir)
    if not _validate(spec_path, checkpoint):
        return 1
    if not _publish_and_audit(workdir, port, endpoint, spec_path, checkpoint):
        return 1
    _say(
        "done",
        f"cards in {cards}; the repository lived at {endpoint} (data in {workdir / 'hub-data'})",
    )
    return 0


def _lint_shipped_specs(repo_root: Path) -> list[Path] | None:
    """Step 1: every spec in model_specs/ lints clean (None when one does not)."""
    from publisher import api
    from publisher.spec.collect import collect_spec_paths

    specs, _ = collect_spec_paths([repo_root / "model_specs"])
    _say("1. lint", f"{len(specs)} specs in model_specs/")
    for path in specs:
        loaded = api.lint(path)
        errors = api.has_errors(loaded.findings)
        print(f"   {path.name}: {'FAILED' if errors else 'clean'} ({_count(loaded.findings)})")
        if errors:
            sys.stdout.write(api.format_findings(loaded.findings))
            return None
    return specs


def _render_cards(specs: list[Path], workdir: Path) -> Path:
    """Step 2: their cards, written to workdir/cards/."""
    from publisher import api

    cards = workdir / "cards"
    cards.mkdir(exist_ok=True)
    _say("2. render", f"cards into {cards}")
    for path in specs:
        result = api.render_card(path)
        assert result.text is not None  # the specs linted clean in step 1
        (cards / f"{path.stem}.md").write_text(result.text, encoding="utf-8")
        size = len(result.text.encode("utf-8"))
        print(f"   {path.stem}.md: {size:,} bytes ({len(result.text):,} characters)")
    return cards


def _build_checkpoint(workdir: Path) -> Path:
    """Step 3: a genuine ModelOpt NVFP4 export of a tiny Qwen3.5 (the test kit builds it)."""
    import importlib.util

    from publisher.errors import UsageError

    missing = [m for m in ("torch", "modelopt") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"the demo builds its checkpoint with publisher's test kit, which needs {', '.join(missing)}",
            fix='pip install "publisher[testkit]"',
        )
    from publisher.testkit.modelopt_export import cached_export

    _say("3. checkpoint", "a tiny Qwen3.5 (64 layers) quantized to NVFP4 by ModelOpt on the CPU")
    checkpoint = cached_export(
        "dense", Path(os.environ.get("PUBLISHER_SYNTH_CACHE", workdir / "synth"))
    )
    print(f"   {checkpoint}")
    return checkpoint


def _init_spec(checkpoint: Path, workdir: Path) -> Path:
    """Step 4: a spec written from the checkpoint (what `publisher init` does), then linted."""
    from publisher import api

    spec_dir = workdir / "model_specs"
    spec_dir.mkdir(exist_ok=True)
    spec_path = spec_dir / "Tiny-Qwen3.5-NVFP4.yaml"
    _say("4. init", f"a spec from the checkpoint: {spec_path}")
    _write_demo_spec(checkpoint, spec_path)
    print(f"   lint: {_count(api.lint(spec_path).findings)}")
    return spec_path


def _validate(spec_path: Path, checkpoint: Path) -> bool:
    """Step 5: every tensor of the checkpoint against the spec."""
    from publisher import api

    _say("5. validate", "every tensor against the spec")
    report = api.validate(spec_path, checkpoint)
    print(api.format_validation(report))
    return report.ok


def _publish_and_audit(
    workdir: Path, port: int, endpoint: str, spec_path: Path, checkpoint: Path
) -> bool:
    """Steps 6-9: a fresh local Hub; push; push again (nothing to send); audit the pushed repo."""
    import shutil

    from publisher import api
    from publisher.checkpoint.audit import audit_inventory
    from publisher.hub.remote import read_remote_checkpoint
    from publisher.localhub.server import LocalHub

    _say("6. local Hub", f"{endpoint} (starts empty on every demo run)")
    shutil.rmtree(workdir / "hub-data", ignore_errors=True)
    with LocalHub(workdir / "hub-data", port=port) as hub:
        _say("7. push", f"{DEMO_REPO} with tag {DEMO_TAG}")
        first = api.push(spec_path, checkpoint, repo_id=DEMO_REPO, tag=DEMO_TAG)
        files = len(first.plan.files) if first.plan else 0
        print(
            f"   {first.status}: commit {first.commit}, {files} files, "
            f"{first.hash_stats.hashed_bytes:,} bytes hashed, tag {first.tag} {first.tag_state}"
        )
        if first.status not in ("committed", "up-to-date"):
            sys.stdout.write(api.format_findings(first.findings))
            return False
        _say("8. push again", "nothing changed, so nothing is sent")
        hub.requests.clear()
        second = api.push(spec_path, checkpoint, repo_id=DEMO_REPO, tag=DEMO_TAG)
        puts = sum(1 for r in hub.requests if r.method == "PUT")
        print(
            f"   {second.status}: {second.hash_stats.hashed_bytes:,} bytes re-hashed, {puts} uploads"
        )
        _say("9. remote audit", "headers by HTTP range requests, no weights downloaded")
        hub.requests.clear()
        inventory, stats = read_remote_checkpoint(DEMO_REPO, DEMO_TAG)  # to show what it cost
        audit = audit_inventory(inventory)
        print(
            f"   {inventory.tensor_count:,} tensors, format {audit.detected_format}: "
            f"{stats.requests} HTTP requests, {stats.bytes_read:,} bytes read"
        )
        for summary in audit.components[:4]:
            print(f"   {summary.label}: {summary.counts}")
    return True


def _write_demo_spec(checkpoint: Path, spec_path: Path) -> None:
    import yaml

    from publisher.checkpoint.audit import audit_inventory
    from publisher.checkpoint.init_spec import starting_spec
    from publisher.checkpoint.reader import read_checkpoint

    inventory, _ = read_checkpoint(checkpoint)
    text = starting_spec("Tiny-Qwen3.5-NVFP4", inventory, audit_inventory(inventory))
    data: dict[str, Any] = yaml.safe_load(text)
    data["repo_id"] = DEMO_REPO
    data["summary"] = (
        "A tiny Qwen3.5 (64 layers, hidden size 64) with random weights, quantized to NVFP4 by "
        "NVIDIA ModelOpt on the CPU: a real export, small enough to publish in a demo."
    )
    data["hub"]["base_model"] = ["publisher-demo/Tiny-Qwen3.5"]
    spec_path.write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )


def _count(findings: list[Any]) -> str:
    """ "1 finding", "3 findings", "no findings"."""
    if not findings:
        return "no findings"
    return f"{len(findings)} finding{'' if len(findings) == 1 else 's'}"
