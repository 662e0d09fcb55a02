"""Signed provenance: `publisher sign` and `publisher verify`, offline, on a genuine tiny
ModelOpt export, with a generated key pair and a generated certificate chain; on the local Hub
through the real huggingface_hub client (verification reads metadata, never a weight byte).

Keyless Sigstore signing needs an OIDC token and Sigstore's public services (Fulcio, Rekor, its
TUF trust root): it cannot run offline and is not faked here. The release workflow exercises
it; tests/test_workflows.py checks the workflow asks for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from publisher.cli import main
from publisher.provenance.identity import describe_signer, signed_statement_digests
from publisher.provenance.manifest import SIGNATURE_FILE
from tests import hub_fixtures
from tests.signing_keys import CertificateChain, KeyPair, certificate_chain, key_pair

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from publisher.localhub.server import LocalHub

local_hub = hub_fixtures.local_hub
hub = hub_fixtures.hub
hub_api = hub_fixtures.hub_api
hub_repo_id = hub_fixtures.hub_repo_id

pytestmark = pytest.mark.slow  # the genuine export is built once per cache


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> CertificateChain:
    return certificate_chain(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def export(modelopt_dense_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the genuine export (the cache's marker file left out)."""
    folder = tmp_path / "Tiny-NVFP4"
    folder.mkdir()
    for item in modelopt_dense_dir.iterdir():
        if not item.name.startswith("."):
            shutil.copyfile(item, folder / item.name)
    return folder


def _run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sign(capsys: pytest.CaptureFixture[str], folder: Path, keys: KeyPair) -> None:
    code, out, err = _run(capsys, "sign", folder, "--key", keys.private)
    assert code == 0, out + err


# ---- sign and verify a folder ------------------------------------------------------------


def test_sign_holds_one_sha256_per_file_equal_to_sha256sum(
    capsys: pytest.CaptureFixture[str], export: Path, keys: KeyPair
) -> None:
    code, out, _ = _run(capsys, "sign", export, "--key", keys.private)

    assert code == 0
    signed = signed_statement_digests((export / SIGNATURE_FILE).read_bytes())
    files = sorted(p.name for p in export.iterdir() if p.name != SIGNATURE_FILE)
    assert signed == {name: _sha256(export / name) for name in files}
    assert "model.safetensors" in signed
    assert f"{_sha256(export / 'model.safetensors')}  model.safetensors" in out
    assert f"signed {len(files)} file(s) as public key sha256:" in out


def test_sign_leaves_out_what_a_push_would_not_publish_and_verify_names_it(
    capsys: pytest.CaptureFixture[str], export: Path, keys: KeyPair
) -> None:
    (export / ".env").write_text("HF_TOKEN=hf_not_a_real_one\n")
    code, out, _ = _run(capsys, "sign", export, "--key", keys.private)
    assert code == 0
    assert "not signed (a push would not publish it): .env" in out
    assert ".env" not in (signed_statement_digests((export / SIGNATURE_FILE).read_bytes()) or {})

    code, out, _ = _run(capsys, "verify", export, "--key", keys.public)
    assert code == 1 and "SIGN502" in out and ".env is not covered by the signature" in out


def test_a_signed_folder_verifies_and_model_signing_agrees(
    capsys: pytest.CaptureFixture[str], export: Path, keys: KeyPair
) -> None:
    from model_signing import verifying

    _sign(capsys, export, keys)
    code, out, _ = _run(capsys, "verify", export, "--key", keys.public)

    assert code == 0, out
    assert "verified" in out and "4 file(s) match the signature" in out
    # the same signature verifies with model-signing's own API (the format is its own)
    verifying.Config().use_elliptic_key_verifier(public_key=keys.public).verify(
        export, export / SIGNATURE_FILE
    )


def test_a_changed_an_added_and_a_missing_file_are_each_named(
    capsys: pytest.CaptureFixture[str], export: Path, keys: KeyPair
) -> None:
    _sign(capsys, export, keys)
    with (export / "config.json").open("a") as handle:
        handle.write("\n")
    (export / "notes.txt").write_text("added after signing\n")
    (export / "generation_config.json").unlink()

    code, out, _ = _run(capsys, "verify", export, "--key", keys.public)

    assert code == 1
    assert "SIGN501" in out and "config.json changed" in out
    assert "SIGN502" in out and "notes.txt is not covered by the signature" in out
    assert "SIGN503" in out and "generation_config.json is signed but missing" in out
    assert "NOT verified" in out


def test_another_key_or_an_altered_signature_does_not_verify(
    capsys: pytest.CaptureFixture[str], export: Path, keys: KeyPair, tmp_path: Path
) -> None:
    _sign(capsys, export, keys)
    other = key_pair(tmp_path, "other")
    code, out, _ = _run(capsys, "verify", export, "--key", other.public)
    assert code == 1 and "SIGN504" in out and "does not verify" in out

    # claim another digest for the shard inside the signed statement
    signature = export / SIGNATURE_FILE
    bundle = json.loads(signature.read_text())
    payload = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    for resource in payload["predicate"]["resources"]:
        if resource["name"] == "model.safetensors":
            resource["digest"] = "0" * 64
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    signature.write_text(json.dumps(bundle))
    code, out, _ = _run(capsys, "verify", export, "--key", keys.public)
    assert code == 1 and "SIGN504" in out and "model.sig" in out

    signature.write_text("not a signature")
    code, out, _ = _run(capsys, "verify", export, "--key", keys.public)
    assert code == 1 and "SIGN506" in out


def test_a_certificate_chain_signs_and_its_root_verifies(
    capsys: pytest.CaptureFixture[str], export: Path, chain: CertificateChain, tmp_path: Path
) -> None:
    code, out, err = _run(
        capsys, "sign", export, "--key", chain.key, "--certificate", chain.certificate,
        "--certificate-chain", chain.intermediate,
    )  # fmt: skip
    assert code == 0, out + err
    assert "certificate CN=Publisher Test Signer" in out

    code, out, _ = _run(capsys, "verify", export, "--certificate-chain", chain.root)
    assert code == 0, out
    assert "signed by certificate CN=Publisher Test Signer" in out

    stranger = certificate_chain(tmp_path, "Stranger")
    code, out, _ = _run(capsys, "verify", export, "--certificate-chain", stranger.root)
    assert code == 1 and "SIGN504" in out
    other = key_pair(tmp_path)
    code, out, _ = _run(capsys, "verify", export, "--key", other.public)
    assert code == 1 and "made with a certificate chain: verify it with --certificate-chain" in out
    # a keyless identity against a certificate signature: said so, offline (no trust root fetched)
    issuer = "https://token.actions.githubusercontent.com"
    code, out, _ = _run(capsys, "verify", export, "--identity", "x", "--issuer", issuer)
    assert code == 1 and "verify it with --certificate-chain" in out


def test_no_signature_unusable_keys_and_missing_trust(
    capsys: pytest.CaptureFixture[str], export: Path, keys: KeyPair, tmp_path: Path
) -> None:
    code, out, _ = _run(capsys, "verify", export, "--key", keys.public)
    assert code == 1 and "SIGN505" in out

    code, _, err = _run(capsys, "verify", export)
    assert code == 2 and "say whom to trust" in err
    code, _, err = _run(capsys, "verify", export, "--identity", "someone@example.com")
    assert code == 2 and "--identity and --issuer go together" in err
    code, _, err = _run(capsys, "sign", export)
    assert code == 2 and "--sigstore" in err
    code, _, err = _run(capsys, "sign", export, "--key", tmp_path / "absent.pem")
    assert code == 2 and "absent.pem: no such file" in err
    code, _, err = _run(capsys, "sign", export, "--key", keys.public)  # a public key
    assert code == 2 and "cannot sign with this key" in err
    assert not (export / SIGNATURE_FILE).exists()


def test_the_signer_is_read_from_the_signature(export: Path, keys: KeyPair) -> None:
    from publisher.provenance.keys import SigningMaterial
    from publisher.provenance.sign import sign_folder

    result = sign_folder(export, SigningMaterial(private_key=keys.private))
    pem = keys.public.read_bytes()
    assert describe_signer(result.signature) == (
        f"public key sha256:{hashlib.sha256(pem).hexdigest()}"
    )
    assert describe_signer(b"{}") == "unknown"


# ---- a signed export on the local Hub ------------------------------------------------------


@pytest.fixture
def signed_repo(
    capsys: pytest.CaptureFixture[str],
    export: Path,
    keys: KeyPair,
    hub_api: HfApi,
    hub_repo_id: str,
) -> str:
    """The signed export published in one commit (signature included)."""
    _sign(capsys, export, keys)
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_folder(repo_id=hub_repo_id, folder_path=export, commit_message="signed")
    return hub_repo_id


def test_a_hub_repo_verifies_without_downloading_a_weight_byte(
    capsys: pytest.CaptureFixture[str],
    hub: LocalHub,
    hub_api: HfApi,
    signed_repo: str,
    export: Path,
    keys: KeyPair,
) -> None:
    info = hub_api.model_info(signed_repo, files_metadata=True)
    lfs = {s.rfilename: s.lfs for s in info.siblings or []}
    assert lfs["model.safetensors"] is not None  # the shard is an LFS file
    hub.requests.clear()

    code, out, _ = _run(capsys, "verify", signed_repo, "--key", keys.public)

    assert code == 0, out
    assert f"verified {signed_repo}@main" in out
    resolved = [r.path for r in hub.requests if "/resolve/" in r.path]
    assert not [p for p in resolved if p.endswith(".safetensors")]  # no weight byte
    assert any(p.endswith("/model.sig") for p in resolved)
    assert any(p.endswith("/config.json") for p in resolved)  # small regular files: hashed
    shard = (export / "model.safetensors").stat().st_size
    downloaded = int(out.rsplit("downloaded ", 1)[1].split()[0])
    assert 0 < downloaded < shard / 20


def test_tampering_on_the_hub_is_named_and_the_signed_revision_still_verifies(
    capsys: pytest.CaptureFixture[str],
    hub_api: HfApi,
    signed_repo: str,
    export: Path,
    keys: KeyPair,
) -> None:
    signed_commit = hub_api.repo_info(signed_repo).sha
    shard = bytearray((export / "model.safetensors").read_bytes())
    shard[-1] ^= 0xFF

    def verify_main() -> tuple[int, str]:
        code, out, _ = _run(capsys, "verify", signed_repo, "--key", keys.public)
        return code, out

    hub_api.upload_file(
        path_or_fileobj=bytes(shard), path_in_repo="model.safetensors", repo_id=signed_repo
    )
    code, out = verify_main()
    assert code == 1 and "SIGN501" in out and "model.safetensors changed" in out

    hub_api.upload_file(path_or_fileobj=b"surprise\n", path_in_repo="extra.py", repo_id=signed_repo)
    code, out = verify_main()
    assert code == 1 and "SIGN502" in out and "extra.py is not covered" in out

    hub_api.delete_file("generation_config.json", repo_id=signed_repo)
    code, out = verify_main()
    assert code == 1 and "SIGN503" in out and "generation_config.json is signed but missing" in out

    bundle = json.loads((export / SIGNATURE_FILE).read_text())
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(b"\x00" * 70).decode()
    hub_api.upload_file(
        path_or_fileobj=json.dumps(bundle).encode(), path_in_repo="model.sig", repo_id=signed_repo
    )
    code, out = verify_main()
    assert code == 1 and "SIGN504" in out and "model.sig" in out

    # the commit that was signed is untouched: pinned by revision, it still verifies
    code, out, _ = _run(capsys, "verify", f"{signed_repo}@{signed_commit}", "--key", keys.public)
    assert code == 0, out


def test_a_repo_without_a_signature_or_a_missing_repo(
    capsys: pytest.CaptureFixture[str], hub_api: HfApi, hub_repo_id: str, keys: KeyPair
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id=hub_repo_id)
    code, out, _ = _run(capsys, "verify", hub_repo_id, "--key", keys.public)
    assert code == 1 and "SIGN505" in out

    code, _, err = _run(capsys, "verify", hub_repo_id + "-absent", "--key", keys.public)
    assert code == 3 and "publisher: error:" in err


# ---- the card's "Verify this model" section ---------------------------------------------------


def test_the_card_gives_the_exact_verify_command_of_its_signer(repo_root: Path) -> None:
    from publisher.card.pipeline import render_spec
    from publisher.card.verify_facts import CardSigner

    spec = repo_root / "model_specs" / "Qwen3.5-2B-NVFP4.yaml"
    identity = "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.2.0"
    keyless = render_spec(spec, signer=CardSigner(identity=identity, revision="v1.2.0")).text
    assert keyless is not None and "## Verify this model" in keyless
    assert (
        "publisher verify publisher-demo/Qwen3.5-2B-NVFP4@v1.2.0 --identity "
        f"{identity} --issuer https://token.actions.githubusercontent.com\n"
    ) in keyless
    keyed = render_spec(spec, signer=CardSigner(key_fingerprint="ab" * 32)).text
    assert keyed is not None
    assert "publisher verify publisher-demo/Qwen3.5-2B-NVFP4 --key PUBLIC_KEY.pem" in keyed
    assert "ab" * 32 in keyed


def test_the_local_hub_reports_lfs_digests_as_the_hub_does(
    hub: LocalHub, hub_api: HfApi, signed_repo: str, export: Path
) -> None:
    """Tree listing `lfs.oid` and the `X-Linked-Etag` of a HEAD request: both the file's
    SHA-256, read from metadata only."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.hf_api import RepoFile

    shard_sha = _sha256(export / "model.safetensors")
    tree = {
        item.path: item
        for item in hub_api.list_repo_tree(signed_repo, recursive=True)
        if isinstance(item, RepoFile)
    }
    lfs = tree["model.safetensors"].lfs
    assert lfs is not None and lfs.sha256 == shard_sha
    assert tree["config.json"].lfs is None  # a regular file: its id is the git blob id

    hub.requests.clear()
    meta = get_hf_file_metadata(hf_hub_url(signed_repo, "model.safetensors"))
    assert meta.etag == shard_sha  # from X-Linked-Etag
    assert meta.size == (export / "model.safetensors").stat().st_size
    assert {r.method for r in hub.requests} == {"HEAD"}


def test_a_keyless_signers_identity_is_read_from_its_certificate() -> None:
    """The identity a release summary shows comes from the Fulcio-style certificate in the
    bundle: its SAN and the OIDC issuer extension. (Parsing only: keyless signing itself needs
    Sigstore's services and is not run offline.)"""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    identity = "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.0.0"
    issuer = "https://token.actions.githubusercontent.com"
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    issuer_der = b"\x0c" + bytes([len(issuer)]) + issuer.encode()  # DER UTF8String
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "ca")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(minutes=10))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), critical=True
        )
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), issuer_der),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    raw = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    bundle = {"verificationMaterial": {"certificate": {"rawBytes": raw}}}
    assert describe_signer(json.dumps(bundle).encode()) == f"sigstore {identity} (issuer {issuer})"


# ---- push --sign: the signature in the same single commit -------------------------------------


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.localhub.server import DEMO_TOKEN

    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)


def test_push_sign_publishes_model_sig_in_the_one_commit_and_it_verifies(
    capsys: pytest.CaptureFixture[str],
    hub: LocalHub,
    hub_api: HfApi,
    hub_repo_id: str,
    modelopt_dense_spec: Path,
    export: Path,
    keys: KeyPair,
    token: None,
) -> None:
    push = ("push", modelopt_dense_spec, export, "--repo", hub_repo_id, "--tag", "v1.0.0")
    code, out, err = _run(capsys, *push, "--sign", "--key", keys.private)
    assert code == 0, out + err
    assert "signed: 6 file(s), public key sha256:" in out, out  # all but model.sig

    commits = hub_api.list_repo_commits(hub_repo_id)
    head = commits[0].commit_id
    files = set(hub_api.list_repo_files(hub_repo_id, revision=head)) - {".gitattributes"}
    assert files == {
        "README.md", "quantization_audit.json", "model.sig", "config.json",
        "generation_config.json", "hf_quant_config.json", "model.safetensors",
    }  # fmt: skip
    for earlier in commits[1:]:  # one commit holds everything, the signature included
        assert set(hub_api.list_repo_files(hub_repo_id, revision=earlier.commit_id)) <= {
            ".gitattributes"
        }
    card = Path(hub_api.hf_hub_download(hub_repo_id, "README.md", revision=head)).read_text()
    fingerprint = hashlib.sha256(keys.public.read_bytes()).hexdigest()
    # the card names the spec's repository, like the rest of the card (here pushed elsewhere)
    assert "publisher verify your-org/Tiny-NVFP4@v1.0.0 --key PUBLIC_KEY.pem" in card
    assert fingerprint in card

    hub.requests.clear()
    code, out, _ = _run(capsys, "verify", f"{hub_repo_id}@v1.0.0", "--key", keys.public)
    assert code == 0, out
    assert "6 file(s) match the signature" in out
    assert not [r for r in hub.requests if r.path.endswith(".safetensors")]

    # an unchanged re-push keeps the signature: nothing to commit
    code, out, err = _run(capsys, *push, "--sign", "--key", keys.private)
    assert code == 0, out + err
    assert "up to date" in out and "kept the signature on the Hub" in out
    assert hub_api.list_repo_commits(hub_repo_id)[0].commit_id == head


def test_push_sign_covers_the_files_a_push_keeps_on_the_hub(
    capsys: pytest.CaptureFixture[str],
    hub_api: HfApi,
    hub_repo_id: str,
    modelopt_dense_spec: Path,
    export: Path,
    keys: KeyPair,
    token: None,
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"# notice\n", path_in_repo="NOTICE", repo_id=hub_repo_id)
    code, out, err = _run(
        capsys, "push", modelopt_dense_spec, export, "--repo", hub_repo_id, "--sign",
        "--key", keys.private,
    )  # fmt: skip
    assert code == 0, out + err
    assert "the signature also covers 1 file(s) kept on the Hub" in out and "NOTICE" in out
    code, out, _ = _run(capsys, "verify", hub_repo_id, "--key", keys.public)
    assert code == 0, out


def test_push_sign_needs_a_key_and_key_options_need_sign(
    capsys: pytest.CaptureFixture[str], modelopt_dense_spec: Path, export: Path, keys: KeyPair
) -> None:
    code, _, err = _run(capsys, "push", modelopt_dense_spec, export, "--sign", "--dry-run")
    assert code == 2 and "--sigstore" in err
    code, _, err = _run(
        capsys, "push", modelopt_dense_spec, export, "--key", keys.private, "--dry-run"
    )
    assert code == 2 and "only with --sign" in err


def test_a_dry_run_with_sign_shows_model_sig_in_the_plan_and_sends_nothing(
    capsys: pytest.CaptureFixture[str],
    hub: LocalHub,
    hub_repo_id: str,
    modelopt_dense_spec: Path,
    export: Path,
    keys: KeyPair,
) -> None:
    code, out, err = _run(
        capsys, "push", modelopt_dense_spec, export, "--repo", hub_repo_id, "--dry-run",
        "--sign", "--key", keys.private, "--format", "json",
    )  # fmt: skip
    assert code == 0, out + err
    data = json.loads(out)
    planned = {f["path"]: f for f in data["plan"]["files"]}
    assert planned["model.sig"]["origin"] == "generated"
    assert data["signer"].startswith("public key sha256:")
    assert not [r for r in hub.requests if r.method in ("POST", "PUT", "DELETE")]


def test_verify_reports_json(
    capsys: pytest.CaptureFixture[str], export: Path, keys: KeyPair
) -> None:
    _sign(capsys, export, keys)
    (export / "config.json").write_text("{}")
    code, out, _ = _run(capsys, "verify", export, "--key", keys.public, "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["verified"] is False and data["signed_files"] == 4
    assert [(f["code"], f["location"]["file"]) for f in data["findings"]] == [
        ("SIGN501", f"{export}/config.json")
    ]


def test_the_push_allowlist_admits_model_sig_and_push_sign_replaces_a_local_one(
    capsys: pytest.CaptureFixture[str],
    hub: LocalHub,
    hub_repo_id: str,
    modelopt_dense_spec: Path,
    export: Path,
    keys: KeyPair,
) -> None:
    _sign(capsys, export, keys)
    dry = ("push", modelopt_dense_spec, export, "--repo", hub_repo_id, "--dry-run")
    code, out, err = _run(capsys, *dry, "--format", "json")
    assert code == 0, out + err
    planned = {f["path"]: f["origin"] for f in json.loads(out)["plan"]["files"]}
    assert planned["model.sig"] == "checkpoint"  # a folder signed with `publisher sign`

    code, out, err = _run(capsys, *dry, "--sign", "--key", keys.private, "--format", "json")
    assert code == 0, out + err
    plan = json.loads(out)["plan"]
    assert {f["path"]: f["origin"] for f in plan["files"]}["model.sig"] == "generated"
    assert {"path": "model.sig", "reason": "replaced by the signature of this push"} in plan[
        "skipped"
    ]
