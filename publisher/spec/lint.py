"""Spec lint: everything that can be checked from a spec alone, as findings with stable codes."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from publisher.findings import Finding, Location, Severity
from publisher.spec.derive import DeriveLimitError, MemberGroup, ModelInventory, derive
from publisher.spec.layout import LayoutError
from publisher.spec.loader import LoadedSpec, load_spec
from publisher.spec.model import (
    Architecture,
    ComponentEntry,
    ModelSpec,
    Quantization,
    format_param_count,
    parse_param_count,
)
from publisher.spec.profile import Component, Profile, ProfileError, ProfileNotFound, load_profile

# code → what it means; the README's table of codes is generated from these catalogues.
CODES: dict[str, str] = {
    "SPEC001": "YAML syntax error, or text that is not UTF-8",
    "SPEC002": "a key appears twice in one mapping",
    "SPEC003": "'extends' forms a cycle or a chain too deep",
    "SPEC004": "'extends' names a family file that does not exist",
    "SPEC005": "spec file missing, unreadable or a directory",
    "SPEC006": "spec too large, or YAML aliases that expand without bound",
    "SPEC007": "the spec is not a YAML mapping",
    "SPEC010": "unknown key (with a did-you-mean)",
    "SPEC011": "a value has the wrong type or is out of range",
    "SPEC012": "a required key is missing",
    "SPEC020": "the hidden layout does not parse (the column is given)",
    "SPEC021": "the layout's layer count differs from num_layers",
    "SPEC022": "the layout's feed-forward blocks disagree with the architecture (FFN vs MoE)",
    "SPEC023": "a layer kind in the layout has no matching architecture section",
    "SPEC030": "a declared count differs from the count derived from the architecture",
    "SPEC031": "two component entries count the same modules (a double count)",
    "SPEC032": "modules of the model that no component entry accounts for",
    "SPEC033": "unknown component id, or module names the component does not have",
    "SPEC034": "the stated quantized total differs from the sum of quantized entries",
    "SPEC035": "a component's precision does not fit the quantization format",
    "SPEC036": "group size does not fit the format (NVFP4 uses 16)",
    "SPEC037": "a component that is not made of linear layers is declared quantized",
    "SPEC038": "a component cannot be counted until the architecture states more (a warning)",
    "SPEC040": "the model name's parameter count contradicts architecture.parameters",
    "SPEC041": "active parameters exceed total parameters",
    "SPEC042": "head or expert counts that cannot work together",
    "SPEC050": "license not in the Hub's list",
    "SPEC051": "pipeline tag not in the Hub's list",
    "SPEC052": "library name not in the Hub's list",
    "SPEC053": "base_model_relation disagrees with the quantization section or base_model",
    "SPEC054": "a repository id that the Hub would refuse",
    "SPEC060": "a benchmark row has a different number of scores than the table has columns",
    "SPEC061": "released scores identical to base scores in every row (a copy-paste sign)",
    "SPEC062": "recovery % requested without one base and one released column",
    "SPEC063": "a paired score does not match the table's pair_labels",
    "SPEC070": "a path in the spec escapes the repository",
    "SPEC080": "unknown architecture profile",
    "SPEC201": "a value the profile's shapes need is not in the spec (a shape would go unchecked)",
    "SPEC202": "the architecture profile file is not usable (the message says where and why)",
    "SPEC203": "the profile file named by the spec lies outside the spec's repository",
}

REPO_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?/[A-Za-z0-9_.-]{1,96}$")
NAME_SIZE = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)B(?![A-Za-z])")
NAME_ACTIVE = re.compile(r"-A(\d+(?:\.\d+)?)B(?![A-Za-z])")
QUANTIZABLE_KINDS = {"linear"}
QUANTIZED_PRECISIONS = ("nvfp4", "mxfp4", "fp8")  # as checkpoint.formats.QUANTIZED_PRECISIONS


def lint_path(path: Path) -> LoadedSpec:
    """Load one spec and run every check; findings land on the returned LoadedSpec."""
    loaded = load_spec(path)
    if loaded.spec is not None:
        loaded.findings.extend(check_spec(loaded))
    return loaded


def check_spec(loaded: LoadedSpec) -> list[Finding]:
    spec = loaded.spec
    assert spec is not None
    findings: list[Finding] = []
    for check in (_check_identity, _check_hub, _check_benchmarks, _check_paths, _check_heads):
        findings.extend(check(spec, loaded))
    if any(f.code == "SPEC203" for f in loaded.findings):
        return findings
    try:
        profile = load_profile(spec.architecture.profile)
    except ProfileNotFound as error:
        findings.append(Finding("SPEC080", str(error), loaded.locate("architecture", "profile")))
        return findings
    except ProfileError as error:
        findings.append(
            Finding(
                "SPEC202",
                f"{error}; run `publisher profile check` on the file to see every problem",
                loaded.locate("architecture", "profile"),
            )
        )
        return findings
    inventory = _derive(spec, profile, loaded, findings)
    if inventory is not None:
        findings.extend(_check_layers(spec, profile, inventory, loaded))
        findings.extend(check_components(spec, profile, inventory, loaded))
    return findings


def derive_inventory(spec: ModelSpec) -> tuple[Profile, ModelInventory]:
    """Profile and derived modules for a valid spec (raises on a bad layout or profile)."""
    profile = load_profile(spec.architecture.profile)
    return profile, cached_derive(spec.architecture, profile)


def cached_derive(arch: Architecture, profile: Profile) -> ModelInventory:
    """derive(), remembered per architecture (a 256-expert model has 30,000+ modules)."""
    return _derive_by_json(arch.model_dump_json(), profile.source or profile.name)


@functools.lru_cache(maxsize=32)
def _derive_by_json(arch_json: str, profile_name: str) -> ModelInventory:
    return derive(Architecture.model_validate_json(arch_json), load_profile(profile_name))


def _derive(
    spec: ModelSpec, profile: Profile, loaded: LoadedSpec, findings: list[Finding]
) -> ModelInventory | None:
    try:
        return cached_derive(spec.architecture, profile)
    except DeriveLimitError as error:
        findings.append(Finding("SPEC011", str(error), loaded.locate_value(*error.key)))
        return None
    except LayoutError as error:
        start = loaded.source.value_start(("architecture", "layout"))
        location = loaded.locate("architecture", "layout")
        if start is not None:
            location = Location(
                start[0], start[1], start[2] + error.column - 1, "architecture.layout"
            )
        findings.append(
            Finding(
                "SPEC020",
                f"layout does not parse: {error.reason} (column {error.column} of the layout)",
                location,
            )
        )
        return None


def _check_layers(
    spec: ModelSpec, profile: Profile, inventory: ModelInventory, loaded: LoadedSpec
) -> Iterator[Finding]:
    arch = spec.architecture
    layers = inventory.layers
    if len(layers) != arch.num_layers:
        yield Finding(
            "SPEC021",
            f"layout describes {len(layers)} layers but num_layers is {arch.num_layers}; "
            "fix the repeat counts or num_layers",
            loaded.locate("architecture", "num_layers"),
        )
    yield from _check_ffn_sections(arch, profile, inventory, loaded)
    for component, keys in inventory.unsupplied.items():
        label = profile.component(component)
        yield Finding(
            "SPEC201",
            f"the shapes of {label.label if label else component} need {', '.join(keys)}, "
            f"which the spec does not give; add {'them' if len(keys) > 1 else 'it'} "
            f"({_config_hint(profile, keys)}) so every tensor's shape can be checked",
            loaded.locate("architecture"),
            # a part the spec leaves open on purpose (SPEC038) is a warning, else an error
            Severity.WARNING if component in inventory.underived else Severity.ERROR,
        )


def _config_hint(profile: Profile, keys: list[str]) -> str:
    """'config.json linear_conv_kernel_dim' for the spec keys a profile reads from config.json."""
    from publisher.spec.variables import spec_path

    hints = []
    for name, variable in profile.all_variables().items():
        if f"architecture.{spec_path(name, variable)}" in keys and variable.config:
            key = variable.config if isinstance(variable.config, str) else variable.config[0]
            hints.append(key)
    return "config.json " + ", ".join(hints) if hints else "see the profile's variables"


def _check_ffn_sections(
    arch: Architecture, profile: Profile, inventory: ModelInventory, loaded: LoadedSpec
) -> Iterator[Finding]:
    """Dense layers need architecture.ffn, MoE layers architecture.moe, and each given section
    is used by some layer; a dense-only profile has no MoE layers."""
    kinds = {layer.ffn for layer in inventory.layers}
    problems = []
    if "dense" in kinds and arch.ffn is None:
        problems.append("the layout has dense feed-forward layers but architecture.ffn is missing")
    if "moe" in kinds and arch.moe is None:
        problems.append("the layout has MoE layers but architecture.moe is missing")
    if arch.ffn is not None and "dense" not in kinds:
        problems.append("architecture.ffn is given but no layer of the layout is dense")
    if arch.moe is not None and "moe" not in kinds:
        problems.append("architecture.moe is given but no layer of the layout is MoE")
    if profile.ffn == "dense" and "moe" in kinds:
        problems.append(f"profile '{profile.name}' has no mixture-of-experts layers")
    for problem in problems:
        yield Finding(
            "SPEC022",
            f"{problem}; make the layout's feed-forward blocks and the sections agree",
            loaded.locate("architecture", "layout"),
        )


def check_components(
    spec: ModelSpec, profile: Profile, inventory: ModelInventory, loaded: LoadedSpec
) -> Iterator[Finding]:
    """Each quantization component entry against the architecture (known, counted once, in a
    precision its format allows), then the entries together (every module in one, totals)."""
    quant = spec.quantization
    if quant is None:
        return
    claimed: dict[str, int] = {}  # member group → the entry that claimed it first
    quantized_sum = 0
    for index, entry in enumerate(quant.components):
        where = ("quantization", "components", index)
        component = profile.component(entry.component)
        if component is None:
            yield _unknown_component(entry, profile, loaded.locate(*where, "component"))
            continue
        groups = inventory.groups_of(entry.component, entry.modules)
        if entry.component in inventory.underived:
            yield _uncounted_component(entry, inventory, loaded.locate(*where, "component"))
            _claim(groups, index, claimed)
            continue
        yield from _unknown_modules(entry, inventory, loaded, where)
        derived = inventory.count(entry.component, entry.modules, component.unit)
        yield from _count_mismatch(entry, component, inventory, derived, loaded, where)
        yield from _double_count(quant, entry, groups, claimed, loaded, where)
        _claim(groups, index, claimed)
        if entry.precision in QUANTIZED_PRECISIONS:
            quantized_sum += derived
            yield from _quantized_entry_precision(quant, entry, groups, loaded, where)
    yield from _check_component_totals(quant, inventory, claimed, quantized_sum, loaded)


Where = tuple[str, str, int]


def _unknown_component(entry: ComponentEntry, profile: Profile, location: Location) -> Finding:
    """SPEC033: a component the profile does not have, with the closest known one."""
    ids = [c.id for c in profile.components]
    close = difflib.get_close_matches(entry.component, ids, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return Finding(
        "SPEC033",
        f"unknown component '{entry.component}' for profile '{profile.name}' "
        f"({hint}known: {', '.join(ids)})",
        location,
    )


def _uncounted_component(
    entry: ComponentEntry, inventory: ModelInventory, location: Location
) -> Finding:
    """SPEC038: a component the architecture cannot count yet (a value is missing)."""
    return Finding(
        "SPEC038",
        f"{entry.component} cannot be counted from the architecture until "
        f"{inventory.underived[entry.component]} is given; its count stays unchecked",
        location,
        Severity.WARNING,
    )


def _unknown_modules(
    entry: ComponentEntry, inventory: ModelInventory, loaded: LoadedSpec, where: Where
) -> Iterator[Finding]:
    """SPEC033: an entry's `modules` naming modules its component does not have."""
    if entry.modules is None:
        return
    available = {group.local_name for group in inventory.groups_of(entry.component)}
    unknown = sorted(set(entry.modules) - available)
    if unknown:
        yield Finding(
            "SPEC033",
            f"component '{entry.component}' has no module named {', '.join(unknown)} "
            f"(it has {', '.join(sorted(available))})",
            loaded.locate(*where, "modules"),
        )


def _count_mismatch(
    entry: ComponentEntry,
    component: Component,
    inventory: ModelInventory,
    derived: int,
    loaded: LoadedSpec,
    where: Where,
) -> Iterator[Finding]:
    """SPEC030: a declared count the architecture does not give."""
    if entry.count is not None and derived != entry.count:
        picked = f" ({', '.join(entry.modules)})" if entry.modules else ""
        yield Finding(
            "SPEC030",
            f"{entry.component}{picked} declares {entry.count} but the architecture gives "
            f"{derived} {component.unit} ({_formula(inventory, entry.component, entry.modules)})",
            loaded.locate(*where, "count"),
        )


def _double_count(
    quant: Quantization,
    entry: ComponentEntry,
    groups: list[MemberGroup],
    claimed: dict[str, int],
    loaded: LoadedSpec,
    where: Where,
) -> Iterator[Finding]:
    """SPEC031: modules an earlier entry already counts."""
    shared = [group for group in groups if group.key in claimed and group.count]
    if not shared:
        return
    first = min(ref.name for group in shared for ref in group.modules())
    other_index = next(claimed[g.key] for g in shared if first in _names(g))
    other = quant.components[other_index]
    overlap = sum(g.count for g in shared if claimed[g.key] == other_index)
    yield Finding(
        "SPEC031",
        f"'{entry.label or entry.component}' and '{other.label or other.component}' "
        f"both count {overlap} modules (e.g. {first}): a double count; the spec "
        "describes the checkpoint as shipped, so keep only the entry that is true",
        loaded.locate(*where, "component"),
    )


def _quantized_entry_precision(
    quant: Quantization,
    entry: ComponentEntry,
    groups: list[MemberGroup],
    loaded: LoadedSpec,
    where: Where,
) -> Iterator[Finding]:
    """SPEC035/SPEC037: a quantized entry's precision the format does not allow, or modules
    of a kind that precision does not quantize."""
    if entry.precision not in allowed_precisions(quant):
        yield Finding(
            "SPEC035",
            f"'{entry.component}' is {entry.precision} but the format is {quant.format}"
            f"{_mixing_hint(quant)}",
            loaded.locate(*where, "precision"),
        )
    odd = sorted({g.member.kind for g in groups if g.count} - quantizable_kinds(entry.precision))
    if odd:
        yield Finding(
            "SPEC037",
            f"'{entry.component}' holds {'/'.join(odd)} modules, which {quant.format} "
            "does not quantize; declare it bf16",
            loaded.locate(*where, "precision"),
        )


def _check_component_totals(
    quant: Quantization,
    inventory: ModelInventory,
    claimed: dict[str, int],
    quantized_sum: int,
    loaded: LoadedSpec,
) -> Iterator[Finding]:
    """The entries together: modules in no entry (SPEC032), quantized_total (SPEC034), and
    the NVFP4 group size (SPEC036)."""
    missing = [g for g in inventory.unique_groups() if g.count and g.key not in claimed]
    if missing and quant.components:
        by_component: dict[str, int] = {}
        for group in missing:
            by_component[group.component] = by_component.get(group.component, 0) + group.count
        listed = ", ".join(f"{c} ({n})" for c, n in by_component.items())
        yield Finding(
            "SPEC032",
            f"{sum(by_component.values())} modules are in no component entry: {listed}; "
            "say whether they are quantized or kept in higher precision",
            loaded.locate("quantization", "components"),
            Severity.WARNING,
        )
    if quant.quantized_total is not None and quant.quantized_total != quantized_sum:
        yield Finding(
            "SPEC034",
            f"quantized_total is {quant.quantized_total} but the quantized entries add up to {quantized_sum}",
            loaded.locate("quantization", "quantized_total"),
        )
    if quant.format == "nvfp4" and quant.group_size not in (None, 16):
        yield Finding(
            "SPEC036",
            f"NVFP4 uses blocks of 16 elements; group_size is {quant.group_size}",
            loaded.locate("quantization", "group_size"),
        )


def allowed_precisions(quant: Quantization) -> set[str]:
    """The precisions a quantized component may have. A ModelOpt NVFP4 export may keep some
    modules in FP8 instead (its MIXED_PRECISION config lists each one); anything else holds
    one format."""
    if quant.format == "nvfp4":
        return {"nvfp4", "fp8"} if quant.export_format == "modelopt" else {"nvfp4"}
    if quant.format == "mxfp4":
        return {"mxfp4"}
    return {"fp8"}


def quantizable_kinds(precision: str) -> set[str]:
    """Module kinds a precision's formats quantize (formats.FORMATS: Linears; MXFP4's fused
    expert parameters too)."""
    from publisher.checkpoint.formats import FORMATS

    kinds = {k for rule in FORMATS.values() if rule.precision == precision for k in rule.kinds}
    return kinds or QUANTIZABLE_KINDS


def _mixing_hint(quant: Quantization) -> str:
    if quant.format == "nvfp4":  # compressed-tensors: one format per checkpoint here
        return " (NVFP4 mixed with FP8 is read from ModelOpt exports only)"
    return " (for NVFP4 mixed with FP8, declare format: nvfp4)"


def _claim(groups: list[MemberGroup], index: int, claimed: dict[str, int]) -> None:
    """Record the member groups an entry claims (first claim wins)."""
    for group in groups:
        claimed.setdefault(group.key, index)


def _names(group: MemberGroup) -> set[str]:
    return {ref.name for ref in group.modules()}


def _formula(inventory: ModelInventory, component: str, modules: list[str] | None) -> str:
    return inventory.formula(component, modules)


def _check_identity(spec: ModelSpec, loaded: LoadedSpec) -> Iterator[Finding]:
    params = spec.architecture.parameters
    total = params.total_count
    match = NAME_SIZE.search(
        spec.name.split("-A")[0] if NAME_ACTIVE.search(spec.name) else spec.name
    )
    if match:
        named = parse_param_count(match.group(1) + "B")
        if not _close(named, total):
            yield Finding(
                "SPEC040",
                f"the name '{spec.name}' says {match.group(1)}B but architecture.parameters.total "
                f"is {format_param_count(total)}; fix the name or the count",
                loaded.locate("architecture", "parameters", "total"),
            )
    active_match = NAME_ACTIVE.search(spec.name)
    if active_match and params.active_count is not None:
        named_active = parse_param_count(active_match.group(1) + "B")
        if not _close(named_active, params.active_count) and not _rounds_to(
            active_match.group(1), params.active_count
        ):
            yield Finding(
                "SPEC040",
                f"the name '{spec.name}' says A{active_match.group(1)}B active but "
                f"parameters.active is {format_param_count(params.active_count)}",
                loaded.locate("architecture", "parameters", "active"),
            )
    if params.active_count is not None and params.active_count > total:
        yield Finding(
            "SPEC041",
            "active parameters exceed total parameters",
            loaded.locate("architecture", "parameters", "active"),
        )


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.05 * max(a, b)


def _rounds_to(named: str, count: float) -> bool:
    """'3' names 3.3B (a name gives the count to its own precision: Qwen3-30B-A3B, 3.3B active)."""
    decimals = len(named.partition(".")[2])
    return round(count / 1e9, decimals) == float(named)


def _check_heads(spec: ModelSpec, loaded: LoadedSpec) -> Iterator[Finding]:
    arch = spec.architecture
    att = arch.attention
    if att.q_heads % att.kv_heads:
        yield Finding(
            "SPEC042",
            f"{att.q_heads} query heads cannot be shared evenly by {att.kv_heads} KV heads",
            loaded.locate("architecture", "attention", "kv_heads"),
        )
    if att.rotary_dim is not None and att.head_dim is not None and att.rotary_dim > att.head_dim:
        yield Finding(
            "SPEC042",
            f"rotary_dim {att.rotary_dim} exceeds head_dim {att.head_dim}",
            loaded.locate("architecture", "attention", "rotary_dim"),
        )
    if arch.moe and arch.moe.routed > arch.moe.experts:
        yield Finding(
            "SPEC042",
            f"{arch.moe.routed} routed experts per token but only {arch.moe.experts} experts",
            loaded.locate("architecture", "moe", "routed"),
        )


def _check_hub(spec: ModelSpec, loaded: LoadedSpec) -> Iterator[Finding]:
    from publisher import hubmeta

    hub = spec.hub
    checks: list[tuple[str, str, str, Callable[[], frozenset[str]]]] = [
        ("SPEC050", "license", hub.license, hubmeta.allowed_licenses),
        ("SPEC051", "pipeline_tag", hub.pipeline_tag, hubmeta.allowed_pipeline_tags),
        ("SPEC052", "library_name", hub.library_name, hubmeta.allowed_libraries),
    ]
    for code, key, value, allowed_fn in checks:
        allowed = allowed_fn()
        if allowed and value not in allowed:
            hint = hubmeta.suggest(value, allowed)
            yield Finding(
                code,
                f"{key} '{value}' is not one the Hub accepts"
                + (f"; did you mean '{hint}'?" if hint else ""),
                loaded.locate("hub", key),
            )
    # A quantized spec naming a base model is a quantization of it; one naming none is a model
    # its authors released in that format (gpt-oss in MXFP4), which has no base model.
    if spec.quantization and hub.base_model and hub.base_model_relation != "quantized":
        yield Finding(
            "SPEC053",
            "the spec has a quantization section and names a base model, so "
            "hub.base_model_relation must be 'quantized'",
            loaded.locate("hub", "base_model_relation"),
        )
    if spec.quantization is None and hub.base_model_relation == "quantized":
        yield Finding(
            "SPEC053",
            "base_model_relation is 'quantized' but the spec has no quantization section",
            loaded.locate("hub", "base_model_relation"),
        )
    if hub.base_model_relation and not hub.base_model:
        yield Finding(
            "SPEC053",
            "base_model_relation is set but base_model is empty; name the base model",
            loaded.locate("hub", "base_model_relation"),
        )
    ids = [("repo_id",), *[("hub", "base_model", i) for i in range(len(hub.base_model))]]
    values = [spec.repo_id, *hub.base_model]
    for path, value in zip(ids, values, strict=True):
        if not REPO_ID.match(value) or "--" in value or ".." in value:
            yield Finding(
                "SPEC054",
                f"'{value}' is not a valid Hub repository id (owner/name, letters, digits, '-', '_', '.')",
                loaded.locate(*path),
            )


def _check_benchmarks(spec: ModelSpec, loaded: LoadedSpec) -> Iterator[Finding]:
    for t, table in enumerate(spec.benchmarks):
        where = ("benchmarks", t)
        width = len(table.columns)
        roles = [c.role for c in table.columns]
        for s, section in enumerate(table.sections):
            for r, row in enumerate(section.rows):
                if len(row.scores) != width:
                    yield Finding(
                        "SPEC060",
                        f"'{row.name}' has {len(row.scores)} scores but table '{table.title}' "
                        f"has {width} columns",
                        loaded.locate(*where, "sections", s, "rows", r),
                    )
                for score in row.scores:
                    if isinstance(score, list) and len(score) != len(table.pair_labels or []):
                        yield Finding(
                            "SPEC063",
                            f"'{row.name}' has a score pair of {len(score)} but table "
                            f"'{table.title}' declares pair_labels {table.pair_labels or []}",
                            loaded.locate(*where, "sections", s, "rows", r),
                        )
                        break
        if table.recovery and (roles.count("base") != 1 or roles.count("released") != 1):
            yield Finding(
                "SPEC062",
                f"table '{table.title}' asks for recovery % but needs exactly one base and one "
                "released column",
                loaded.locate(*where, "recovery"),
            )
        if "base" in roles and "released" in roles:
            b, r = roles.index("base"), roles.index("released")
            pairs = [
                (row.scores[b], row.scores[r])
                for section in table.sections
                for row in section.rows
                if len(row.scores) == width and row.scores[r] is not None
            ]
            if len(pairs) >= 2 and all(base == released for base, released in pairs):
                yield Finding(
                    "SPEC061",
                    f"every released score in '{table.title}' equals its base score: "
                    "a copy-paste sign; fill in the measured scores or leave them unset",
                    loaded.locate(*where),
                    Severity.WARNING,
                )


def _check_paths(spec: ModelSpec, loaded: LoadedSpec) -> Iterator[Finding]:
    paths: list[tuple[tuple[str | int, ...], str]] = [
        (("extra_files", i), p) for i, p in enumerate(spec.extra_files)
    ]
    paths += [(("card", "overrides", k), p) for k, p in spec.card.overrides.items()]
    for where, value in paths:
        if not is_safe_relative(value):
            yield Finding(
                "SPEC070",
                f"path '{value}' leaves the repository; use a path relative to it, without '..'",
                loaded.locate(*where),
            )


def is_safe_relative(value: str) -> bool:
    """A relative POSIX path that stays inside its root (no '..', no absolute, no drive)."""
    if not value or "\\" in value or "\x00" in value:
        return False
    path = PurePosixPath(value)
    return not path.is_absolute() and ".." not in path.parts and ":" not in path.parts[0]
