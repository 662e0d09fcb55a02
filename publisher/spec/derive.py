"""Derive, from a spec's architecture and its profile, every module of the model by component.

This is what makes counts checkable: 64 layers × 3 MLP projections is 192 because the layout
says so, not because someone typed 192.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from operator import add

from publisher.spec.layout import Layer
from publisher.spec.model import Architecture
from publisher.spec.profile import (
    Component,
    Member,
    ModuleRef,
    Profile,
    eval_dim,
    expression_names,
)
from publisher.spec.variables import option_values, resolve_values

FFN_SCOPES = {"dense_ffn": "dense", "moe_ffn": "moe"}

MAX_MODULES = 1_000_000
"""More modules than this are not derived: the largest published MoE has about 150,000, and a
spec asking for 10^8 vision blocks would otherwise take minutes and gigabytes."""


class DeriveLimitError(ValueError):
    """An architecture that implies more than MAX_MODULES modules; `key` is the spec key that
    makes it so (e.g. ('architecture', 'vision', 'depth'))."""

    def __init__(self, count: int, key: tuple[str, ...]):
        super().__init__(
            f"the architecture implies {count:,} modules, more than the {MAX_MODULES:,} "
            f"publisher derives; check {'.'.join(key)}"
        )
        self.count = count
        self.key = key


class MemberGroup:
    """The modules one profile member expands to, counted without being listed: a 256-expert
    model has 30,000+ expert modules, and lint and cards only need how many there are."""

    __slots__ = (
        "_layers",
        "_modules",
        "_names",
        "_repeats",
        "component",
        "count",
        "member",
        "shape",
    )

    def __init__(
        self,
        component: str,
        member: Member,
        shape: tuple[int, ...] | None,
        layers: tuple[int, ...] | None,
        repeats: int = 1,
    ):
        self.component = component
        """the component that declares the member (an including component shares the group)"""
        self.member = member
        self.shape = shape
        self._layers = layers  # None: not per layer
        self._repeats = repeats  # vision blocks, or experts per layer
        self.count = (1 if layers is None else len(layers)) * repeats
        self._modules: list[ModuleRef] | None = None
        self._names: list[str] | None = None

    @property
    def key(self) -> str:
        """The member's path pattern: unique within a profile, so it names the group."""
        return self.member.path

    @property
    def local_name(self) -> str:
        """The member's last path part, e.g. 'in_proj_a' (used to pick modules of a component)."""
        return self.member.path.rsplit(".", 1)[-1]

    @property
    def tensors_per_module(self) -> int:
        return 2 if self.member.bias and self.member.kind != "param" else 1

    def modules(self) -> list[ModuleRef]:
        """Every module of the group, by name (built on first use, then kept)."""
        if self._modules is None:
            cid, kind, shape = self.component, self.member.kind, self.shape
            bias = self.member.bias is True  # "optional": a bias the spec decides on
            self._modules = [
                ModuleRef(name, cid, kind, bias, shape, layer)
                for name, layer in zip(self.names(), self._layer_numbers(), strict=True)
            ]
        return self._modules

    def names(self) -> list[str]:
        """Every module's name, in order (kept): what checking a checkpoint needs, without a
        ModuleRef per expert."""
        if self._names is None:
            self._names = self._expand_names()
        return self._names

    def _expand_names(self) -> list[str]:
        path, scope = self.member.path, self.member.scope
        if scope == "expert":
            head, _, tail = path.partition("{E}")
            experts = [f"{e}{tail}" for e in range(self._repeats)]
            names: list[str] = []
            for i in self._layers or ():
                names += map(add, repeat(head.format(L=i)), experts)
            return names
        if scope == "vision_block":
            return [path.format(B=b) for b in range(self._repeats)]
        if self._layers is None:
            return [path] if self.count else []
        return [path.format(L=i) for i in self._layers]

    def _layer_numbers(self) -> list[int | None]:
        """The layer of each module of `names()` (None outside the layer stack)."""
        if self.member.scope == "expert":
            return [i for i in self._layers or () for _ in range(self._repeats)]
        if self.member.scope == "vision_block" or self._layers is None:
            return [None] * len(self.names())
        return list(self._layers)


@dataclass
class ModelInventory:
    """Every module the architecture implies, grouped by component id (as member groups)."""

    layers: list[Layer]
    groups: dict[str, list[MemberGroup]] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    underived: dict[str, str] = field(default_factory=dict)
    """component id → what the spec must add before the component can be counted"""
    terms: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """component id → (count term, member name) per member, to explain a subset's count"""
    values: dict[str, int] = field(default_factory=dict)
    """the resolved shape values (spec values and the profile's defaults)"""
    unsupplied: dict[str, list[str]] = field(default_factory=dict)
    """component id → spec keys its shapes need that the spec does not give"""

    def layers_with_ffn(self, ffn: str) -> list[int]:
        return [i for i, layer in enumerate(self.layers) if layer.ffn == ffn]

    def formula(self, component_id: str, names: list[str] | None = None) -> str:
        """How the count is made, e.g. '64 layers × 3'; for a subset, only its members."""
        if names is None:
            return self.formulas.get(component_id, "0")
        wanted = set(names)
        terms = [term for term, member in self.terms.get(component_id, []) if member in wanted]
        return " + ".join(_merge_terms(terms)) or "0"

    def groups_of(self, component_id: str, names: list[str] | None = None) -> list[MemberGroup]:
        """The member groups of a component; with `names`, only the members so named."""
        groups = self.groups.get(component_id, [])
        if names is None:
            return groups
        wanted = set(names)
        return [group for group in groups if group.local_name in wanted]

    def count(
        self, component_id: str, names: list[str] | None = None, unit: str = "modules"
    ) -> int:
        groups = self.groups_of(component_id, names)
        if unit == "tensors":
            return sum(group.count * group.tensors_per_module for group in groups)
        return sum(group.count for group in groups)

    def select(self, component_id: str, names: list[str] | None = None) -> list[ModuleRef]:
        return [ref for group in self.groups_of(component_id, names) for ref in group.modules()]

    def unique_groups(self) -> list[MemberGroup]:
        """Each group once, under the first component that lists it."""
        seen: dict[str, MemberGroup] = {}
        for groups in self.groups.values():
            for group in groups:
                seen.setdefault(group.key, group)
        return list(seen.values())

    def all_modules(self) -> list[ModuleRef]:
        """Each module once, under its most specific component (the first that lists it)."""
        return [ref for group in self.unique_groups() for ref in group.modules()]


def shape_values(arch: Architecture, profile: Profile) -> dict[str, int]:
    """Every value the profile's shapes use, as the spec gives it or by the profile's default."""
    return resolve_values(arch, profile)[0]


def derive(arch: Architecture, profile: Profile) -> ModelInventory:
    """Expand the profile over the architecture. Raises LayoutError for a bad layout."""
    layers = profile.parse_layout(arch.layout)
    _check_size(arch, profile, layers)
    inventory = ModelInventory(layers=layers)
    values, missing = resolve_values(arch, profile)
    inventory.values = values
    options = option_values(arch, profile)
    for component in profile.components:
        if component.when is not None and not options.get(component.when, False):
            continue
        if (
            arch.vision is not None
            and arch.vision.depth is None
            and _uses_blocks(component, profile)
        ):
            inventory.underived[component.id] = "architecture.vision.depth"
        groups: list[MemberGroup] = []
        terms: list[str] = []
        member_terms: list[tuple[str, str]] = []
        tensor_terms: list[tuple[str, int]] = []
        for member in component.members:
            if member.when is not None and not options.get(member.when, False):
                continue
            if isinstance(member.bias, str):
                member = member.model_copy(update={"bias": options.get(member.bias, False)})
            group = _group(member, component, arch, layers, values)
            if group is None:
                continue
            if group.count and group.shape is None and member.shape:
                keys = _missing_keys(member, missing)
                if keys:
                    inventory.unsupplied.setdefault(component.id, [])
                    for key in keys:
                        if key not in inventory.unsupplied[component.id]:
                            inventory.unsupplied[component.id].append(key)
            groups.append(group)
            if group.count:
                term = _formula_term(member, arch, layers, profile)
                if component.unit == "tensors":
                    tensor_terms.append((term, group.tensors_per_module))
                terms.append(term)
                member_terms.append((term, group.local_name))
        for included in component.include:
            included_groups = inventory.groups.get(included, [])
            groups.extend(included_groups)
            label = _label(profile, included)
            if component.unit == "tensors":
                count = sum(g.count * g.tensors_per_module for g in included_groups)
                tensor_terms.append((f"{count} tensors of the {label}", 0))
            else:
                terms.append(f"{sum(g.count for g in included_groups)} {label}")
        inventory.groups[component.id] = groups
        inventory.terms[component.id] = member_terms
        if component.unit == "tensors":
            inventory.formulas[component.id] = _tensor_formula(tensor_terms)
        else:
            inventory.formulas[component.id] = " + ".join(_merge_terms(terms)) or "0"
    return inventory


def _check_size(arch: Architecture, profile: Profile, layers: list[Layer]) -> None:
    """Raise DeriveLimitError before expanding an architecture of more than MAX_MODULES."""
    depth = (arch.vision.depth or 0) if arch.vision else 0
    experts = arch.moe.experts if arch.moe else 0
    moe_layers = sum(1 for layer in layers if layer.ffn == "moe")
    per_scope = {"vision_block": depth, "expert": moe_layers * experts, "layer": len(layers)}
    totals: dict[str, int] = {}
    for component in profile.components:
        for member in component.members:
            n = per_scope.get(member.scope, len(layers) if member.scope in profile.mixers else 1)
            totals[member.scope] = totals.get(member.scope, 0) + n
    count = sum(totals.values())
    if count <= MAX_MODULES:
        return
    biggest = max(totals, key=lambda scope: totals[scope])
    key = {
        "vision_block": ("architecture", "vision", "depth"),
        "expert": ("architecture", "moe", "experts"),
    }
    raise DeriveLimitError(count, key.get(biggest, ("architecture", "layout")))


def _label(profile: Profile, component_id: str) -> str:
    component = profile.component(component_id)
    return component.label.lower() if component else component_id


def _tensor_formula(terms: list[tuple[str, int]]) -> str:
    """[('27 vision blocks', 2), ('27 vision blocks', 2), ('1', 2), ('1', 1)] →
    '27 vision blocks × 4 tensors + 3 tensors' (a weight of 0 marks a finished phrase)."""
    merged: list[tuple[str, int]] = []
    for phrase, weight in terms:
        if merged and merged[-1][0] == phrase and weight:
            merged[-1] = (phrase, merged[-1][1] + weight)
        else:
            merged.append((phrase, weight))
    parts = []
    for phrase, weight in merged:
        if weight == 0:
            parts.append(phrase)
        elif phrase == "1":
            parts.append(f"{weight} tensors")
        else:
            parts.append(f"{phrase} × {weight} tensors")
    return " + ".join(parts) or "0"


def _uses_blocks(component: Component, profile: Profile) -> bool:
    if any(m.scope == "vision_block" for m in component.members):
        return True
    return any(
        _uses_blocks(inc, profile)
        for inc in (profile.component(i) for i in component.include)
        if inc is not None
    )


def _group(
    member: Member,
    component: Component,
    arch: Architecture,
    layers: list[Layer],
    values: dict[str, int],
) -> MemberGroup | None:
    """Where a member repeats; None when the model has no such part (no vision, no MoE)."""
    shape = _shape(member, values)
    scope = member.scope
    if scope in ("vision", "vision_block") and arch.vision is None:
        return None
    if scope == "expert" and arch.moe is None:
        return None
    all_layers = tuple(range(len(layers)))
    if scope in ("global", "vision"):
        return MemberGroup(component.id, member, shape, None)
    if scope == "vision_block":
        depth = arch.vision.depth if arch.vision and arch.vision.depth else 0
        return MemberGroup(component.id, member, shape, None, depth)
    if scope == "expert":
        experts = arch.moe.experts if arch.moe else 0
        moe_layers = tuple(i for i, layer in enumerate(layers) if layer.ffn == "moe")
        return MemberGroup(component.id, member, shape, moe_layers, experts)
    if scope == "layer":
        return MemberGroup(component.id, member, shape, all_layers)
    if scope in FFN_SCOPES:
        kind = FFN_SCOPES[scope]
        return MemberGroup(
            component.id, member, shape, tuple(i for i, x in enumerate(layers) if x.ffn == kind)
        )
    mixer_layers = tuple(i for i, layer in enumerate(layers) if layer.mixer == scope)
    return MemberGroup(component.id, member, shape, mixer_layers)


def _missing_keys(member: Member, missing: dict[str, str]) -> list[str]:
    names: set[str] = set()
    for dim in member.shape:
        if isinstance(dim, str):
            names |= expression_names(dim)
    return [f"architecture.{missing[n]}" for n in sorted(names) if n in missing]


def _shape(member: Member, values: dict[str, int]) -> tuple[int, ...] | None:
    if not member.shape:
        return None
    dims = [eval_dim(d, values) for d in member.shape]
    if any(d is None for d in dims):
        return None
    return tuple(int(d) for d in dims if d is not None)


def _formula_term(member: Member, arch: Architecture, layers: list[Layer], profile: Profile) -> str:
    scope = member.scope
    if scope == "global" or scope == "vision":
        return "1"
    if scope == "vision_block":
        return f"{arch.vision.depth if arch.vision and arch.vision.depth else 0} vision blocks"
    if scope == "layer":
        return f"{len(layers)} layers"
    if scope == "expert":
        experts = arch.moe.experts if arch.moe else 0
        moe_layers = sum(1 for layer in layers if layer.ffn == "moe")
        what = "layers" if moe_layers == len(layers) else "MoE layers"
        return f"{moe_layers} {what} × {experts} experts"
    if scope in FFN_SCOPES:
        count = sum(1 for layer in layers if layer.ffn == FFN_SCOPES[scope])
        if count == len(layers):
            return f"{count} layers"
        label = profile.moe_label if FFN_SCOPES[scope] == "moe" else "dense"
        return f"{count} {label} layers"
    count = sum(1 for layer in layers if layer.mixer == scope)
    mixer = profile.mixers.get(scope)
    return f"{count} {mixer.label if mixer else scope} layers"


def _merge_terms(terms: list[str]) -> list[str]:
    """['64 layers', '64 layers', '64 layers'] → ['64 layers × 3']."""
    merged: list[tuple[str, int]] = []
    for term in terms:
        if merged and merged[-1][0] == term:
            merged[-1] = (term, merged[-1][1] + 1)
        else:
            merged.append((term, 1))
    return [t if n == 1 else (f"{n}" if t == "1" else f"{t} × {n}") for t, n in merged]
