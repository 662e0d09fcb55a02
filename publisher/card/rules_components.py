"""CARD307: rows of a component table that name the same tensors.

Each row's label ("Norms", "linear_attn", "Visual encoder", "lm_head", "Routed experts", …) is
mapped through an architecture profile to the member path patterns it describes: a
component's id or label, a mixer's aliases (the layers of that kind), a module kind word
("norms", "projections", "conv"), vision and expert words, and path segments written as such
(`linear_attn`, `self_attn`). Two rows whose sets meet count those tensors twice. Works for
any profile: only profile data is read. Without a spec or checkpoint the profile is the one
that explains the most rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from publisher.card.card_codes import card_finding
from publisher.card.card_source import CardSource
from publisher.card.markdown_tables import ComponentRow, ComponentTable, component_tables
from publisher.card.rules_tables import kind_of_table, pipe_tables, stated_total
from publisher.card.truth import ModelTruth
from publisher.findings import Finding
from publisher.spec.profile import Member, Profile

MAX_ROWS = 200  # a component table longer than this is not one a person wrote
MAX_OVERLAPS = 50
MAX_SENTENCES = 500
_KIND_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:\w*norms?|layernorms?|rmsnorms?|normali[sz]ation)\b"), "norm"),
    (re.compile(r"\bconv(?:1d|olutions?|s)?\b"), "conv"),
    (re.compile(r"\b(?:embeddings?|embed\w*)\b"), "embedding"),
    (re.compile(r"\b(?:projections?|proj|linears?|linear layers?|matmuls?|gemms?)\b"), "linear"),
)
_VISION = re.compile(r"\b(?:vision|visual|vit|image encoder|patch)\b")
_TEXT = re.compile(r"\b(?:text|language|decoder|llm)\b")
_SHARED = re.compile(r"\bshared[\s_-]*experts?\b")
_EXPERTS = re.compile(r"\b(?:routed\s+)?experts?\b")
_ROUTER = re.compile(r"\b(?:router|routers|gate|gating)\b")
_HEAD = re.compile(r"\b(?:lm[\s_-]*head|output head|output layer|unembedding)\b")
_MTP = re.compile(r"\bmtp\b|multi[- ]token prediction")
_ALL = re.compile(r"\((?:all|entire|whole)\)|\b(?:all|entire|whole)\b")
_VAGUE = re.compile(r"\b(?:other|others|rest|remaining|misc\w*|everything)\b")


@dataclass(frozen=True)
class _Item:
    component: str
    member: Member


def _items(profile: Profile) -> tuple[_Item, ...]:
    return tuple(_Item(c.id, m) for c in profile.components for m in c.members)


def _normal(text: str) -> str:
    text = re.sub(r"[`*_]{2,}|`", "", text).lower()
    return re.sub(r"\s+", " ", re.sub(r"\([^)]*\d[^)]*\)", " ", text)).strip()


def _segments(path: str) -> set[str]:
    return {p.lower() for p in path.split(".") if not p.startswith("{")}


def resolve(label: str, profile: Profile) -> frozenset[str] | None:
    """The member path patterns a row label describes, or None if the label says too little."""
    text = _normal(label)
    if not text or _VAGUE.search(text):
        return None
    bare = _ALL.sub(" ", text).strip(" -:")
    for component in profile.components:
        names = {component.id.lower(), component.label.lower(), _normal(component.label)}
        names |= {_ALL.sub(" ", n).strip() for n in names}
        if bare in names or bare.rstrip("s") in names or bare.replace(" ", "_") in names:
            return frozenset(_component_paths(profile, component.id))
    items = list(_items(profile))
    recognised = False
    for pattern, kind in _KIND_WORDS:
        if pattern.search(text):
            items = [i for i in items if i.member.kind == kind]
            recognised = True
            break
    if _VISION.search(text):
        items = [i for i in items if _is_vision(i.member)]
        recognised = True
    elif _TEXT.search(text):
        items = [i for i in items if not _is_vision(i.member)]
    if _HEAD.search(text):
        items = [i for i in items if i.component == "lm_head" or "lm_head" in i.member.path]
        recognised = True
    if _MTP.search(text):
        items = [i for i in items if i.member.path.startswith("mtp")]
        recognised = True
    if _SHARED.search(text):
        items = [i for i in items if "shared_expert" in i.member.path]
        recognised = True
    elif _EXPERTS.search(text):
        items = [
            i
            for i in items
            if (i.member.scope == "expert" or ".experts." in i.member.path)
            and "shared_expert" not in i.member.path
        ]
        recognised = True
    elif _ROUTER.search(text) and "gate_proj" not in text:
        items = [
            i
            for i in items
            if "router" in i.component
            or i.component.endswith("_gate")
            or re.search(r"\.(?:gate|router)$", i.member.path)
        ]
        recognised = True
    mixer = _mixer(text, profile)
    if mixer is not None:
        items = [i for i in items if i.member.scope == mixer]
        recognised = True
    words = set(re.findall(r"[a-z0-9][a-z0-9_]*", text))
    all_segments = set().union(*(_segments(i.member.path) for i in _items(profile)))
    segment_words = {
        w
        for w in words
        if w in all_segments
        and ("_" in w or any(c.isdigit() for c in w) or not _CLASS_WORD.match(w))
    }
    for word in segment_words:
        items = [i for i in items if word in _segments(i.member.path)]
        recognised = True
    explained = segment_words | (_mixer_words(profile) if mixer is not None else set())
    unexplained = {
        w for w in words - explained if not _CLASS_WORD.match(w) and w not in _STOP_WORDS
    }
    if not recognised or not items or unexplained:
        return None  # a word this profile cannot place ("DeltaNet" in a Llama card): unsure
    return frozenset(i.member.path for i in items)


_CLASS_WORD = re.compile(
    r"^(?:\w*norms?|layernorms?|rmsnorms?|normali[sz]ation|conv\w*|embed\w*|projections?|proj"
    r"|linears?|matmuls?|gemms?|vision|visual|vit|image|patch|text|language|decoder|llm|lm"
    r"|heads?|output|unembedding|mtp|multi|token|prediction|shared|experts?|routed|routers?"
    r"|gates?|gating)$"
)
_STOP_WORDS = frozenset(
    [
        "all",
        "the",
        "and",
        "of",
        "weights",
        "weight",
        "parameters",
        "params",
        "tensors",
        "tensor",
        "modules",
        "module",
        "layers",
        "layer",
        "in",
        "every",
        "each",
        "per",
        "encoder",
        "model",
        "a",
        "an",
        "other",
        "its",
    ]
)


def _mixer_words(profile: Profile) -> set[str]:
    words: set[str] = set()
    for kind, mixer in profile.mixers.items():
        layer_types = mixer.layer_type if isinstance(mixer.layer_type, list) else [mixer.layer_type]
        for alias in (kind, mixer.label, *layer_types, *mixer.aliases):
            words |= set(re.findall(r"[a-z0-9]+", alias.lower()))
            words |= set(re.findall(r"[a-z0-9][a-z0-9_]*", alias.lower()))
    return words


def _is_vision(member: Member) -> bool:
    return member.scope.startswith("vision") or "visual" in member.path or "vision" in member.path


def _mixer(text: str, profile: Profile) -> str | None:
    best: tuple[int, str] | None = None
    for kind, mixer in profile.mixers.items():
        layer_types = mixer.layer_type if isinstance(mixer.layer_type, list) else [mixer.layer_type]
        for alias in (kind, mixer.label, *layer_types, *mixer.aliases):
            name = alias.lower().replace("_", " ")
            found = re.search(r"\b" + re.escape(name) + r"\b", text.replace("_", " "))
            if found and (best is None or len(name) > best[0]):
                best = (len(name), kind)
    return best[1] if best else None


def _component_paths(profile: Profile, component_id: str, seen: tuple[str, ...] = ()) -> set[str]:
    component = profile.component(component_id)
    if component is None or component_id in seen:
        return set()
    paths = {m.path for m in component.members}
    for included in component.include:
        paths |= _component_paths(profile, included, (*seen, component_id))
    return paths


# --- the check ---------------------------------------------------------------------------


def _profiles(truth: ModelTruth | None) -> list[Profile]:
    from publisher.spec.profile import ProfileNotFound, available_profiles, load_profile

    names = [truth.profile] if truth is not None and truth.profile else available_profiles()
    profiles = []
    for name in names:
        try:
            profiles.append(load_profile(name))
        except (ProfileNotFound, ValueError):
            continue
    return profiles


def _best(
    rows: Iterable[ComponentRow], profiles: list[Profile], hint: str = ""
) -> tuple[Profile, list[frozenset[str] | None]] | None:
    """The profile that explains the rows best: rows named exactly as one of its components
    weigh most, then rows its words can place; on a tie, the profile the card names."""
    best: tuple[tuple[int, int], Profile, list[frozenset[str] | None]] | None = None
    rows = list(rows)
    for profile in profiles:
        sets = [resolve(r.name, profile) for r in rows]
        exact = sum(1 for r in rows if _exact(r.name, profile))
        score = (exact + sum(1 for s in sets if s), _hinted(profile, hint))
        if score[0] and (best is None or score > best[0]):
            best = (score, profile, sets)
    return (best[1], best[2]) if best else None


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _hinted(profile: Profile, hint: str) -> int:
    """How long a name of the profile the card's title, tags or base model contain."""
    names = {profile.name, profile.model_type, *getattr(profile, "model_types", [])}
    return max((len(n) for n in map(_squash, names) if n and n in hint), default=0)


def _exact(label: str, profile: Profile) -> bool:
    bare = _ALL.sub(" ", _normal(label)).strip(" -:")
    for component in profile.components:
        names = {component.id.lower(), component.label.lower(), _normal(component.label)}
        names |= {_ALL.sub(" ", n).strip() for n in names}
        if bare in names or bare.rstrip("s") in names or bare.replace(" ", "_") in names:
            return True
    return False


def card_hint(card: CardSource) -> str:
    """The card's title, tags and base models squashed together: 'qwen35' names qwen3_5."""
    from publisher.card.claims import title

    meta = card.frontmatter
    parts = [str(meta.get(k, "")) for k in ("tags", "base_model", "model_type", "model_name")]
    heading = title(card)
    if heading:
        parts.append(heading[1])
    return _squash(" ".join(parts))


def check_component_sets(card: CardSource, truth: ModelTruth | None) -> list[Finding]:
    tables = component_tables(card.prose(), pipe_tables(card))
    if not tables:
        return []
    profiles = _profiles(truth)
    findings: list[Finding] = []
    for table in tables:
        findings += _table_overlaps(card, table, profiles, truth)
    return findings


def _table_overlaps(
    card: CardSource, table: ComponentTable, profiles: list[Profile], truth: ModelTruth | None
) -> list[Finding]:
    total = stated_total(table)
    rows = total.rows[:MAX_ROWS]
    chosen = _best(rows, profiles, card_hint(card))
    if chosen is None:
        return []
    profile, sets = chosen
    counts = _member_counts(truth, profile)
    findings = []
    for i, (row_a, set_a) in enumerate(zip(rows, sets, strict=True)):
        for row_b, set_b in zip(rows[i + 1 :], sets[i + 1 :], strict=True):
            if not set_a or not set_b or not (shared := set_a & set_b):
                continue
            if _excludes(row_a, set_a, shared, counts) or _excludes(row_b, set_b, shared, counts):
                continue
            findings.append(_finding(card, table, total, row_a, row_b, shared, counts))
            if len(findings) >= MAX_OVERLAPS:
                return findings
    return findings


def _excludes(
    row: ComponentRow,
    paths: frozenset[str],
    shared: frozenset[str],
    counts: dict[str, tuple[int, int]],
) -> bool:
    """The row's count is that of its tensors without the shared ones: it leaves them out."""
    if not counts or not all(p in counts for p in paths):
        return False
    for unit in (0, 1):
        rest = sum(counts[p][unit] for p in paths - shared)
        if row.count == rest != sum(counts[p][unit] for p in paths):
            return True
    return False


def _member_counts(truth: ModelTruth | None, profile: Profile) -> dict[str, tuple[int, int]]:
    """path pattern → (modules, tensors) it expands to, when a spec gives the architecture."""
    if truth is None or truth.spec is None or truth.spec.architecture.profile != profile.name:
        return {}
    from publisher.spec.derive import derive

    try:
        inventory = derive(truth.spec.architecture, profile)
    except Exception:  # a spec lint would reject: no counts, the overlap still stands
        return {}
    return {g.key: (g.count, g.count * g.tensors_per_module) for g in inventory.unique_groups()}


def _finding(
    card: CardSource,
    table: ComponentTable,
    total: object,
    row_a: ComponentRow,
    row_b: ComponentRow,
    shared: frozenset[str],
    counts: dict[str, tuple[int, int]],
) -> Finding:
    names = sorted(shared)
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    how_many = ""
    if counts and all(counts.get(n, (0, 0))[1] > 0 for n in names):
        how_many = f" ({sum(counts[n][1] for n in names):,} tensors)"
    message = (
        f"rows '{row_a.name.strip()}' (line {row_a.line}) and '{row_b.name.strip()}' (line "
        f"{row_b.line}) both count {shown}{how_many}"
    )
    stated = getattr(total, "count", None)
    added = sum(r.count for r in getattr(total, "rows", []))
    if stated is not None and stated == added:
        message += f"; the total {stated} adds the rows up and so counts these tensors twice"
    return card_finding(card, "CARD307", row_b.line, message)


# --- CARD308: a row in the quantized (or kept) table that the truth stores otherwise ---------

_QUANTIZED_DTYPES = frozenset({"U8", "F8_E4M3", "F8_E5M2", "F4", "I8"})


def _spec_precisions(truth: ModelTruth, profile: Profile) -> dict[str, tuple[str, str]]:
    """member path → (quantized | kept, source) from the spec's component entries."""
    spec = truth.spec
    if spec is None or spec.quantization is None or spec.architecture.profile != profile.name:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for index, entry in enumerate(spec.quantization.components):
        state = "quantized" if entry.precision in ("nvfp4", "mxfp4", "fp8") else "kept"
        source = f"spec quantization.components[{index}] ({entry.component}: {entry.precision})"
        for path in _component_paths(profile, entry.component):
            if entry.modules is None or path.rsplit(".", 1)[-1] in entry.modules:
                found.setdefault(path, (state, source))
    return found


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{[A-Z]\}", path)
    return re.compile(r"\d+".join(re.escape(p) for p in parts) + r"(?:\.weight(?:_packed)?)?$")


def _header_precisions(truth: ModelTruth, paths: frozenset[str]) -> dict[str, tuple[str, str]]:
    """member path → (quantized | kept, source) from the dtypes of its tensors."""
    if not truth.tensors:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for path in paths:
        pattern = _pattern(path)
        dtypes = [d for name, (d, _) in truth.tensors.items() if pattern.match(name)]
        if not dtypes:
            continue
        quantized = sum(1 for d in dtypes if d in _QUANTIZED_DTYPES)
        if quantized == len(dtypes):
            found[path] = ("quantized", f"the headers: {len(dtypes)} {path} weights quantized")
        elif quantized == 0:
            kept = ", ".join(sorted(set(dtypes)))
            found[path] = ("kept", f"the headers: {len(dtypes)} {path} weights in {kept}")
    return found


def _contradiction(
    paths: frozenset[str], kind: str, truth: ModelTruth, profile: Profile
) -> tuple[str, str] | None:
    """(true state, its source) when every known tensor of `paths` is stored against `kind`."""
    states = {**_header_precisions(truth, paths), **_spec_precisions(truth, profile)}
    told = [states[p] for p in sorted(paths) if p in states]
    if told and all(state != kind for state, _ in told):
        return told[0]
    return None


def _said(kind: str) -> str:
    return "quantized" if kind == "quantized" else "kept in full precision"


def check_component_precision(card: CardSource, truth: ModelTruth | None) -> list[Finding]:
    """A quantized-table row whose tensors all stayed in full precision, or a kept-table row
    whose tensors are all quantized; the same said in a sentence (CARD308)."""
    if truth is None:
        return []
    profiles = _profiles(truth)
    findings: list[Finding] = []
    for table in component_tables(card.prose(), pipe_tables(card)):
        kind = kind_of_table(table)
        rows = stated_total(table).rows[:MAX_ROWS]
        chosen = _best(rows, profiles, card_hint(card)) if kind else None
        if kind is None or chosen is None:
            continue
        profile, sets = chosen
        for row, paths in zip(rows, sets, strict=True):
            found = _contradiction(paths, kind, truth, profile) if paths else None
            if found:
                findings.append(
                    card_finding(
                        card,
                        "CARD308",
                        row.line,
                        f"'{row.name.strip()}' is listed as {_said(kind)} ('{table.context}') "
                        f"but {found[1]} says {_said(found[0])}",
                    )
                )
    findings += _sentences(card, truth, profiles)
    return findings


_SENTENCE = re.compile(
    r"(?P<subject>(?:the\s+)?[`\w][\w`.\-/ ]{1,50}?)\s+(?:is|are|was|were|stays?|remains?)\s+"
    r"(?:(?P<kept>(?:kept|left|stored)?\s*(?:in|at)\s+(?:bf16|fp16|full[- ]precision|higher "
    r"precision|the original precision))|(?P<quantized>(?:also\s+)?quantized\b))",
    re.IGNORECASE,
)
_NOT_A_PART = re.compile(r"\b(?:weights?|model|checkpoint|it|this|everything|rest)$", re.I)


def _sentences(card: CardSource, truth: ModelTruth, profiles: list[Profile]) -> list[Finding]:
    """'The vision encoder is kept in BF16.' / 'lm_head is quantized too.'"""
    findings: list[Finding] = []
    checked = 0
    for number, text in card.prose():
        if "|" in text:
            continue
        for match in _SENTENCE.finditer(text):
            checked += 1
            if checked > MAX_SENTENCES:
                return findings
            subject = re.sub(r"^(?:the|all|its|our)\s+", "", match["subject"].strip(), flags=re.I)
            if _NOT_A_PART.search(subject) or re.search(r"\b(?:not|no|except)\b", subject, re.I):
                continue
            kind = "kept" if match["kept"] else "quantized"
            chosen = _best([ComponentRow(number, subject, 0, "")], profiles, card_hint(card))
            if chosen is None or not chosen[1][0]:
                continue
            found = _contradiction(chosen[1][0], kind, truth, chosen[0])
            if found:
                findings.append(
                    card_finding(
                        card,
                        "CARD308",
                        number,
                        f"the card says '{match[0].strip()}' but {found[1]} says {_said(found[0])}",
                    )
                )
    return findings
