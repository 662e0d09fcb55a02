"""`check-card`: each defect class on a small card of our own, a clean card with no findings,
the four reference cards, and the CLI's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.card.card_source import parse_card, rebuild_collapsed_yaml
from publisher.card.check import (
    CODES,
    CardFacts,
    check_against_facts,
    check_card,
    check_card_file,
    facts_from_spec,
)
from publisher.card.mojibake import find_mojibake
from publisher.cli import main
from publisher.findings import Finding, Severity

CARDS = Path(__file__).parent / "cards"
SPECS = Path(__file__).parent / "specs"


def findings_of(name: str, facts: CardFacts | None = None) -> list[Finding]:
    return check_card_file(CARDS / name, facts)


def line_of(name: str, needle: str) -> int:
    """The 1-based line of the first line of a test card that contains `needle`."""
    lines = (CARDS / name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def codes_at(findings: list[Finding]) -> set[tuple[str, int | None]]:
    return {(f.code, f.location.line) for f in findings}


def test_clean_card_has_no_findings() -> None:
    assert findings_of("clean.md") == []


def test_codes_table_is_complete_and_stable() -> None:
    first = [c for c in CODES if c < "CARD300"]
    assert first == [f"CARD{n:03d}" for n in range(1, len(first) + 1)]
    later = [c for c in CODES if c >= "CARD300"]  # claims against the truth: CARD301...
    assert later == [f"CARD{n}" for n in range(301, 301 + len(later))]
    assert all(meaning for _, meaning in CODES.values())


# --- frontmatter ---------------------------------------------------------------------------


def test_missing_frontmatter() -> None:
    assert codes_at(findings_of("no_frontmatter.md")) == {("CARD001", 1)}


def test_frontmatter_that_lost_its_line_breaks_is_named_as_such() -> None:
    [finding] = findings_of("collapsed_frontmatter.md")
    assert (finding.code, finding.location.line) == ("CARD002", 1)
    assert "lost its line breaks" in finding.message


def test_collapsed_frontmatter_values_are_still_checked() -> None:
    text = "--- license: apache2 pipeline_tag: text-generation --- # Flat-1B body\n"
    found = codes_at(check_card(text))
    assert found == {("CARD002", 1), ("CARD005", 1)}


def test_rebuild_collapsed_yaml() -> None:
    flat = "pipeline_tag: image-text-to-text base_model: - Org/A-1B - Org/B-1B license: mit"
    assert rebuild_collapsed_yaml(flat).splitlines() == [
        "pipeline_tag: image-text-to-text",
        "base_model:",
        "- Org/A-1B",
        "- Org/B-1B",
        "license: mit",
    ]


def test_broken_yaml_points_at_the_line() -> None:
    [finding] = findings_of("broken_yaml.md")
    assert finding.code == "CARD003"
    assert finding.location.line in (
        line_of("broken_yaml.md", "[text-generation"),
        line_of("broken_yaml.md", "library_name"),
    )


def test_unclosed_frontmatter() -> None:
    assert codes_at(check_card("---\nlicense: mit\n\n# No end\n")) == {("CARD003", 1)}


def test_frontmatter_that_is_not_a_mapping() -> None:
    assert codes_at(check_card("---\n- a\n- b\n---\n# List-1B\n")) == {("CARD003", 2)}


def test_invalid_metadata_values_with_did_you_mean() -> None:
    findings = findings_of("bad_metadata.md")
    name = "bad_metadata.md"
    assert codes_at(findings) == {
        ("CARD005", line_of(name, "license:")),
        ("CARD004", line_of(name, "pipeline_tag:")),
        ("CARD006", line_of(name, "library_name:")),
        ("CARD008", line_of(name, "https://")),
        ("CARD007", line_of(name, "base_model_relation:")),
    }
    messages = {f.code: f.message for f in findings}
    assert "did you mean 'apache-2.0'" in messages["CARD005"]
    assert "did you mean 'text-generation'" in messages["CARD004"]
    assert "serving app" in messages["CARD006"]
    assert "did you mean 'quantized'" in messages["CARD007"]
    assert "acme/Acme-7B-Instruct" in messages["CARD008"]


def test_license_other_needs_a_name() -> None:
    text = "---\nlicense: other\npipeline_tag: text-generation\n---\n# Other-1B\n"
    assert codes_at(check_card(text)) == {("CARD024", 2)}


def test_non_string_metadata_value() -> None:
    text = "---\nlicense: 3\n---\n# Num-1B\n"
    assert codes_at(check_card(text)) == {("CARD005", 2)}


# --- claims in the text --------------------------------------------------------------------


def test_base_model_and_parameter_contradictions() -> None:
    name = "contradictions.md"
    found = codes_at(findings_of(name))
    assert found == {
        ("CARD009", line_of(name, "quantized version of acme/Acme-9B")),
        ("CARD010", line_of(name, "quantized version of acme/Acme-9B")),
        ("CARD010", line_of(name, "27B-parameter")),
    }


def test_title_says_2b_text_says_it_quantizes_a_9b_model() -> None:
    text = "# Small-2B-AWQ\n\nThis card quantizes a 9B model to 4 bits.\n"
    [finding] = [f for f in check_card(text) if f.code == "CARD010"]
    assert finding.location.line == 3
    assert "9B" in finding.message and "2B" in finding.message


def test_frontmatter_base_model_size_against_title() -> None:
    text = (
        "---\nlicense: mit\nbase_model: acme/Acme-9B\nbase_model_relation: quantized\n---\n"
        "# Acme-2B-FP8\n"
    )
    assert codes_at(check_card(text)) == {("CARD010", 3)}


@pytest.mark.parametrize(
    "sentence",
    [
        "Despite its 2B parameters it beats models with 7B parameters.",
        "It rivals 7B-parameter models on reading.",
        "Compared with the 70B parameters of its teacher, it is small.",
    ],
)
def test_counts_of_other_models_are_not_claims(sentence: str) -> None:
    assert [f for f in check_card(f"# Acme-2B\n\n{sentence}\n") if f.code == "CARD010"] == []


def test_nominal_sizes_within_tolerance_do_not_contradict() -> None:
    text = "# Mini-0.8B\n\nNumber of Parameters: 0.8B\n\nModel size 0.9B params\n"
    assert [f for f in check_card(text) if f.code == "CARD010"] == []


def test_text_names_base_but_frontmatter_has_none() -> None:
    text = "---\nlicense: mit\n---\n# Acme-7B-FP8\n\nAn FP8 quantized version of acme/Acme-7B.\n"
    assert codes_at(check_card(text)) == {("CARD023", 6)}


def test_one_repository_named_by_two_owners() -> None:
    name = "two_owners.md"
    [finding] = findings_of(name)
    assert (finding.code, finding.location.line) == ("CARD011", line_of(name, "second-org"))
    assert "first-org/Widget-4B-FP8" in finding.message
    assert "acme" not in finding.message  # the base model's own owner does not count


def test_third_party_builds_under_other_owners_are_fine() -> None:
    text = (
        "# Acme-7B\n\nOther builds: `first/Acme-7B-GGUF` and `second/Acme-7B-GGUF`.\n\n"
        "```\nvllm serve acme-org/Acme-7B\n```\n"
    )
    assert [f for f in check_card(text) if f.code == "CARD011"] == []


def test_paths_and_mime_types_are_not_repo_ids() -> None:
    text = (
        "# Paths-1B\n\n```\ncurl -H 'Content-Type: application/json' x\n"
        "patch vllm/model_executor/layers/quantization/modelopt.py\n```\n"
    )
    assert [f for f in check_card(text) if f.code == "CARD011"] == []


# --- mojibake ------------------------------------------------------------------------------


def test_mojibake_lines_and_suggestions() -> None:
    name = "mojibake.md"
    findings = findings_of(name)
    assert codes_at(findings) == {
        ("CARD012", line_of(name, "Layout:")),
        ("CARD012", line_of(name, "cp1252 case")),
    }
    text = " ".join(f.message for f in findings)
    for garbled, meant in (("Γ—", "×"), ("β†’", "→"), ("â€™", "’"), ("Ã¯", "ï")):
        assert f"'{garbled}' should be '{meant}'" in text


@pytest.mark.parametrize(
    "clean",
    ["4 × 8 → 32", "café, naïve, Ærø", "Пётр и Γάλλος", "温度 ±6 °C — “ok” ’s", "🤗 model"],
)
def test_real_text_is_not_mojibake(clean: str) -> None:
    assert find_mojibake(clean) == []


def test_truncated_sequence_is_reported() -> None:
    [hit] = find_mojibake('an â€" dash')
    assert hit.garbled == "â€" and hit.intended == ""


# --- tables --------------------------------------------------------------------------------


def test_table_defects() -> None:
    name = "tables.md"
    found = codes_at(findings_of(name))
    assert found == {
        ("CARD013", line_of(name, "| Arithmetic | 30.2 | 29.9 | 12 |")),
        ("CARD014", line_of(name, "| Base | Ours | |")),
        ("CARD015", line_of(name, "| | Base | Ours |")),
        ("CARD016", line_of(name, "Scores copied over") + 2),
    }


def test_delimiter_row_with_wrong_width() -> None:
    text = "# T-1B\n\n| A | B |\n|---|---|---|\n| x | 1 |\n"
    assert ("CARD013", 4) in codes_at(check_card(text))


def test_tables_in_code_blocks_are_ignored() -> None:
    text = "# T-1B\n\n```\n| A | B | |\n|---|---|---|\n| x | 1 | 2 |\n```\n"
    assert [f for f in check_card(text) if f.code.startswith("CARD01")] == []


def test_escaped_pipes_do_not_split_cells() -> None:
    text = "# T-1B\n\n| Name | Value |\n|---|---|\n| a \\| b | `x|y` |\n"
    assert [f for f in check_card(text) if f.code == "CARD013"] == []


# --- component tables ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["components.md", "components_plain.md"])
def test_component_sum_and_double_count(name: str) -> None:
    findings = findings_of(name)
    found = codes_at(findings)
    assert ("CARD017", line_of(name, "Quantized to NVFP4")) in found
    assert ("CARD018", line_of(name, "Vision tower linears")) in found
    double = next(f for f in findings if f.code == "CARD018")
    assert double.severity is Severity.WARNING
    assert "Vision tower (all)" in double.message


def test_component_product_mismatch() -> None:
    name = "components.md"
    assert ("CARD019", line_of(name, "Attention projections")) in codes_at(findings_of(name))


def test_total_row_inside_the_table() -> None:
    text = (
        "# C-1B\n\n| Component | Count |\n|---|---|\n| MLP | 10 |\n| Attention | 5 |\n"
        "| **Total** | 16 |\n"
    )
    assert ("CARD017", 7) in codes_at(check_card(text))


# --- the spec ------------------------------------------------------------------------------


def test_facts_from_a_plain_dict_and_a_spec_shaped_dict() -> None:
    facts: CardFacts = {"repo_id": "o/N-2B", "base_models": [], "total_params": "2B"}
    assert facts_from_spec(facts) == facts
    shaped = {
        "name": "N-2B",
        "repo_id": "o/N-2B",
        "hub": {"base_model": ["b/B-2B"]},
        "architecture": {"parameters": {"total": "2B"}},
    }
    assert facts_from_spec(shaped) == {
        "name": "N-2B",
        "repo_id": "o/N-2B",
        "base_models": ["b/B-2B"],
        "total_params": "2B",
    }


def test_card_against_plain_facts() -> None:
    card = parse_card((CARDS / "clean.md").read_text(encoding="utf-8"), "clean.md")
    good: CardFacts = {
        "repo_id": "example-org/Acme-7B-FP8",
        "base_models": ["acme/Acme-7B"],
        "total_params": 7.2e9,
    }
    assert check_against_facts(card, good) == []
    bad: CardFacts = {
        "repo_id": "other-org/Acme-7B-FP8",
        "base_models": ["acme/Acme-8B"],
        "total_params": "30B",
    }
    codes = {f.code for f in check_against_facts(card, bad)}
    assert codes == {"CARD020", "CARD021", "CARD022"}


def test_card_against_a_loaded_spec_object() -> None:
    from publisher.spec.loader import load_spec

    spec = load_spec(SPECS / "minimal.yaml").spec
    assert spec is not None
    facts = facts_from_spec(spec)
    assert facts["repo_id"] == "example-org/Tiny-2B"
    assert findings_of("spec_tiny.md", facts) == []
    name = "spec_tiny_wrong.md"
    found = codes_at(findings_of(name, facts))
    assert ("CARD020", line_of(name, "someone-else/Tiny-2B")) in found
    assert ("CARD021", line_of(name, "base_model:")) in found
    assert ("CARD022", line_of(name, "Number of Parameters")) in found


_PIECES = st.sampled_from(
    [
        "---",
        "\n",
        " ",
        "|",
        "| a | b |",
        "|---|---|",
        "# T-2B",
        "license: mit",
        "- x",
        "`",
        "```",
        "Γ—",
        "Ã©",
        "â€",
        "192 (64×3)",
        "Component Count",
        "(10 layers)",
        "quantized version of ",
        "o/N-1B",
        "https://huggingface.co/o/N",
        "9B params",
        "vllm serve a/b",
        ":",
        "[",
        "\t",
        "…",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=40).map("".join))
def test_check_card_never_raises(text: str) -> None:
    for finding in check_card(text):
        assert finding.code in CODES
        assert finding.location.line is None or finding.location.line >= 1


# --- the reference cards -------------------------------------------------------------------


def test_reference_cards_show_their_documented_defects(shared_dir: Path) -> None:
    cards = shared_dir / "reference-cards"
    big = {f.code: f for f in check_card_file(cards / "qwen3.5-35b-a3b-nvfp4.md")}
    assert big["CARD002"].location.line == 1  # frontmatter lost its line breaks
    assert "CARD014" in big  # header with three cells, first column unnamed

    dense = check_card_file(cards / "qwen3.5-27b-nvfp4.md")
    owners = next(f for f in dense if f.code == "CARD011")
    assert "berkerdooo/" in owners.message and "ares2324/" in owners.message
    double = next(f for f in dense if f.code == "CARD018")
    assert "110" in double.message and "333" in double.message
    assert "496" in double.message and "606" in double.message  # what adds up vs the total
    assert any(f.code == "CARD010" and "17B" in f.message for f in dense)  # Hub size panel

    small = [f for f in check_card_file(cards / "qwen3.5-0.8b.md") if f.code == "CARD012"]
    text = " ".join(f.message for f in small)
    assert "'Γ—' should be '×'" in text and "'β†’' should be '→'" in text
    assert "'οΌ‰' should be '）'" in text


def test_reference_cards_have_no_table_or_claim_false_alarms(shared_dir: Path) -> None:
    cards = shared_dir / "reference-cards"
    overview = {f.code for f in check_card_file(cards / "qwen3.5-2b-overview.md")}
    assert overview == {"CARD001"}  # copied as page text: no frontmatter, nothing else wrong
    small = {f.code for f in check_card_file(cards / "qwen3.5-0.8b.md")}
    assert small == {"CARD001", "CARD012"}


# --- the command line ----------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check-card", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_cli_clean_card_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([str(CARDS / "clean.md")], capsys)
    assert code == 0 and "no findings" in out


def test_cli_findings_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([str(CARDS / "tables.md")], capsys)
    assert code == 1 and "CARD014" in out


def test_cli_warnings_only_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: other\n---\n# W-1B\n", encoding="utf-8")
    code, out, _ = run_cli([str(card)], capsys)
    assert code == 0 and "CARD024" in out


def test_cli_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--format", "json", str(CARDS / "two_owners.md")], capsys)
    payload = json.loads(out)
    assert code == 1
    assert [f["code"] for f in payload["findings"]] == ["CARD011"]
    assert payload["findings"][0]["location"]["line"] == line_of("two_owners.md", "second-org")


@pytest.mark.parametrize("target", ["missing.md", "."])
def test_cli_unusable_card_exits_2(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([str(CARDS / target)], capsys)
    assert code == 2 and out == "" and err.startswith("publisher: error:")


def test_cli_not_utf8_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card = tmp_path / "README.md"
    card.write_bytes(b"# Latin-1 \xe9t\xe9\n")
    code, _, err = run_cli([str(card)], capsys)
    assert code == 2 and "not UTF-8" in err


def test_cli_with_spec(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(SPECS / "minimal.yaml")
    assert run_cli([str(CARDS / "spec_tiny.md"), "--spec", spec], capsys)[0] == 0
    code, out, _ = run_cli([str(CARDS / "spec_tiny_wrong.md"), "--spec", spec], capsys)
    assert code == 1 and "CARD020" in out


def test_cli_missing_spec_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([str(CARDS / "clean.md"), "--spec", str(CARDS / "none.yaml")], capsys)
    assert code == 2 and "spec" in err
