"""Architecture profiles: how a model family names its modules on disk, as data.

A profile (publisher/profiles/NAME.yaml, or a .yaml file a spec names) lists components (MLP
projections, MLA projections, routed experts, …), each made of member modules with a path
pattern, a scope saying where they repeat, a kind and the logical shape of their weight. It
also says how to read the family's config.json: which key holds each value the shapes use
(`variables`), which key gives the per-layer kinds (`layer_types_key`), and how the card
labels the family's parts. Expanding a profile over an architecture gives every module of the
model and the component it belongs to.

A profile the code cannot fully use is refused when it is loaded (ProfileError): a shape
naming a value no one supplies, a path pattern that cannot match a module of its scope, a
scope or option that does not exist.
"""

from __future__ import annotations

import ast
import operator
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from publisher.spec.layout import Layer, parse_layout

Kind = Literal["linear", "conv", "embedding", "norm", "param"]
Scope = str  # global | layer | dense_ffn | moe_ffn | vision | vision_block | expert | a mixer kind
FfnKind = Literal["dense", "moe", "none"]

BUILTIN_SCOPES = ("global", "layer", "dense_ffn", "moe_ffn", "vision", "vision_block", "expert")
PLACEHOLDERS = {
    "global": set(),
    "vision": set(),
    "vision_block": {"B"},
    "expert": {"L", "E"},
}  # every other scope repeats per layer: {L}
BUILTIN_OPTIONS = ("separate_lm_head",)


class Variable(BaseModel):
    """A value shapes and counts use: where the spec keeps it, where config.json keeps it,
    and the default when neither states it (an expression over other values)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    spec: str | None = None
    """path under `architecture` (default: dims.<name>)"""
    config: str | list[str] | None = None
    """key(s) of the text config, first found wins; `vision_config.x` reads the vision config"""
    default: str | int | None = None
    label: str | None = None


class Option(BaseModel):
    """A yes/no fact of the architecture (e.g. q/k norms present) that switches members."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    config: str | None = None
    default: bool = False
    label: str | None = None


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    scope: Scope
    path: str
    kind: Kind
    bias: bool | str = False
    """True, False, or an option name (bias present when the option is on)"""
    when: str | None = None
    """an option name: the member exists only when the option is on"""
    shape: list[str | int] = Field(default_factory=list)


class Component(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    label: str
    unit: Literal["modules", "tensors"] = "modules"
    when: str | None = None
    include: list[str] = Field(default_factory=list)
    members: list[Member] = Field(default_factory=list)


class Mixer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    layer_type: str | list[str]
    """the value(s) config.json's per-layer list (or pattern character) uses for this kind"""

    def layer_type_names(self) -> list[str]:
        return [self.layer_type] if isinstance(self.layer_type, str) else list(self.layer_type)

    aliases: list[str]
    label: str
    whole_layer: FfnKind | None = None
    """set when the block is a whole layer (no feed-forward block after it): its FFN kind"""


class CardRow(BaseModel):
    """A line of the card's architecture table: `text` is filled from the resolved values."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str
    text: str
    when: str | None = None


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    title: str
    model_type: str
    model_types: list[str] = Field(default_factory=list)
    """further config.json model_type values that use this profile (e.g. kimi_k2)"""
    architectures: list[str]
    ffn: Literal["dense", "moe"]
    layer_types_key: str | list[str] = "layer_types"
    """config.json key(s) giving each layer's kind: a list, or a string of one character a
    layer; the first key present wins"""
    layout_keys: list[str] = Field(default_factory=list)
    """config.json keys the per-layer kinds depend on that transformers fills in when they are
    left out: the layer-kinds key of a hybrid whose config class computes it, FFN keys whose
    default is not 'absent' (DeepSeek-V3's first_k_dense_replace: 3). When config.json omits
    one, validation reads transformers' default instead of assuming none"""
    dense_label: str = "FFN"
    moe_label: str = "MoE"
    vocab_note: str | None = None
    """shown after the vocabulary size on the card, e.g. 'padded'"""
    mtp_prefix: str | None = None
    """where multi-token-prediction tensors live, when the family ships them"""
    variables: dict[str, Variable] = Field(default_factory=dict)
    options: dict[str, Option] = Field(default_factory=dict)
    card_rows: list[CardRow] = Field(default_factory=list)
    mixers: dict[str, Mixer]
    ffn_aliases: dict[str, list[str]]
    components: list[Component]
    source: str | None = None
    """the file the profile came from (set when loaded)"""

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.components if c.id == component_id), None)

    def mixer_aliases(self) -> dict[str, str]:
        table = {kind: kind for kind in self.mixers}
        for kind, mixer in self.mixers.items():
            table.update({alias: kind for alias in mixer.aliases})
        return table

    def mtp_tensor_prefix(self, num_layers: int) -> str:
        """Where this family's multi-token-prediction tensors live ('mtp.', or the extra decoder
        layer 'model.layers.61.' of a 61-layer DeepSeek-V3); 'mtp.' when the profile says none."""
        return (self.mtp_prefix or "mtp.").replace("{layers}", str(num_layers))

    def whole_layer_kinds(self) -> dict[str, str]:
        """mixer kind → FFN kind, for mixers that are whole layers."""
        return {k: m.whole_layer for k, m in self.mixers.items() if m.whole_layer is not None}

    def parse_layout(self, text: str) -> list[Layer]:
        """The spec's layout as layers, through this profile's names."""
        return parse_layout(
            text, self.mixer_aliases(), self.ffn_alias_table(), self.whole_layer_kinds()
        )

    def ffn_alias_table(self) -> dict[str, str]:
        return {alias: kind for kind, aliases in self.ffn_aliases.items() for alias in aliases}

    def all_variables(self) -> dict[str, Variable]:
        """The built-in values every spec has, overridden and extended by the profile's."""
        from publisher.spec.variables import BUILTIN_VARIABLES

        merged = dict(BUILTIN_VARIABLES)
        for name, variable in self.variables.items():
            base = merged.get(name)
            if base is None:
                merged[name] = variable
            else:
                given = variable.model_dump(exclude_unset=True)
                merged[name] = base.model_copy(update=given)
        return merged


class ProfileNotFound(LookupError):
    pass


class ProfileError(ValueError):
    """A profile file that is not usable; the message names the file, the place and the fix."""


def available_profiles() -> list[str]:
    folder = resources.files("publisher") / "profiles"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def is_profile_file(name: str) -> bool:
    """A spec's profile value that names a file (kept in the spec's repository)."""
    return name.lower().endswith((".yaml", ".yml"))


def profile_for_model_type(model_type: str, architectures: list[str] | None = None) -> str | None:
    """The packaged profile for a config.json model_type (or, failing that, architectures)."""
    names = available_profiles()
    if model_type in names and load_profile(model_type).model_type == model_type:
        return model_type  # the usual case: one file read, not every profile
    for name in names:
        profile = load_profile(name)
        if model_type == profile.model_type or model_type in profile.model_types:
            return name
    for name in available_profiles():
        if set(architectures or ()) & set(load_profile(name).architectures):
            return name
    return None


HOW_TO_ADD = (
    "to add one, write a profile file (README: 'Adding an architecture'), check it with "
    "`publisher profile check FILE` and name it in the spec's architecture.profile"
)


@cache
def load_profile(name: str) -> Profile:
    """Load a packaged profile by name, or a profile file by absolute path, resolving
    `extends` (the child's components are appended; one with an inherited id replaces it;
    `remove_components` drops inherited ones) and checking it is fully usable."""
    data, source = _raw_profile(name, ())
    try:
        profile = Profile.model_validate({**data, "source": source})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]
        )
        raise ProfileError(f"{source}: not a valid profile: {problems}") from None
    check_profile(profile)
    return profile


def _read(path: Any, shown: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileNotFound(f"cannot read profile file {shown}: {error}") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"{shown}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{shown}: a profile is a YAML mapping (name, components, …)")
    return data


def _raw_profile(name: str, seen: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    from publisher.spec.loader import shown_path

    if name in seen:
        raise ProfileNotFound(f"profile 'extends' cycle: {' → '.join((*seen, name))}")
    if is_profile_file(name):
        path = Path(name)
        if not path.is_file():
            raise ProfileNotFound(f"profile file {shown_path(name)} does not exist")
        data, shown = _read(path, shown_path(name)), str(path)
        folder: Path | None = path.parent
    else:
        known = available_profiles()
        if name not in known:  # a spec's value never becomes a path (it could be 5,000 chars)
            raise ProfileNotFound(
                f"unknown architecture profile '{shown_path(name, 60)}' (known: "
                f"{', '.join(known)}); {HOW_TO_ADD}"
            )
        packaged = resources.files("publisher") / "profiles" / f"{name}.yaml"
        data, shown, folder = _read(packaged, f"publisher/profiles/{name}.yaml"), name, None
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return dict(data), shown
    parent_ref = str(parent_name)
    if folder is not None and is_profile_file(parent_ref):
        parent_ref = str(folder / parent_ref)
    parent, _ = _raw_profile(parent_ref, (*seen, name))
    own = data.pop("components", [])
    removed = set(data.pop("remove_components", [])) | {
        c.get("id") for c in own if isinstance(c, dict)
    }  # a component with an inherited id replaces the inherited one
    components = [c for c in parent["components"] if c["id"] not in removed]
    components += own
    merged: dict[str, Any] = {**parent, **data, "components": components}
    for key in ("variables", "options"):  # mappings merge key by key
        merged[key] = {**(parent.get(key) or {}), **(data.get(key) or {})}
    return merged, shown


# -- load-time checks ---------------------------------------------------------------------------


def check_profile(profile: Profile) -> None:
    """Raise ProfileError for anything the code could not use: every shape value has a
    source, every scope, option and include exists, every path can match a module."""
    where = profile.source or profile.name
    variables = profile.all_variables()
    options = set(profile.options) | set(BUILTIN_OPTIONS)
    scopes = set(BUILTIN_SCOPES) | set(profile.mixers)
    clash = set(profile.mixers) & set(BUILTIN_SCOPES)
    if clash:
        raise ProfileError(
            f"{where}: mixer id {sorted(clash)[0]!r} is a built-in scope name; rename the mixer"
        )
    ids = [c.id for c in profile.components]
    paths: set[str] = set()
    for variable_name, variable in variables.items():
        if isinstance(variable.default, str):
            _check_names(variable.default, variables, where, f"variables.{variable_name}.default")
    for component in profile.components:
        if component.when is not None and component.when not in options:
            raise ProfileError(
                f"{where}: component {component.id}: 'when: {component.when}' names no option "
                f"(options: {', '.join(sorted(options))}); declare it under options"
            )
        for included in component.include:
            if included not in ids:
                raise ProfileError(
                    f"{where}: component {component.id} includes unknown component {included!r}"
                )
        for member in component.members:
            at = f"component {component.id}, member {member.path}"
            if member.scope not in scopes:
                raise ProfileError(
                    f"{where}: {at}: unknown scope {member.scope!r} "
                    f"(scopes: {', '.join(sorted(scopes))})"
                )
            for flag in (member.when, member.bias if isinstance(member.bias, str) else None):
                if flag is not None and flag not in options:
                    raise ProfileError(
                        f"{where}: {at}: option {flag!r} is not declared under options"
                    )
            found = set(re.findall(r"\{(\w*)\}", member.path))
            wanted = PLACEHOLDERS.get(member.scope, {"L"})
            if found != wanted:
                need = ", ".join(f"{{{p}}}" for p in sorted(wanted)) or "no placeholder"
                raise ProfileError(
                    f"{where}: {at}: a {member.scope}-scoped path needs {need}; "
                    "this pattern can match no module of its scope"
                )
            if member.path in paths:
                raise ProfileError(f"{where}: {at}: the path is listed twice")
            paths.add(member.path)
            for dim in member.shape:
                _check_names(dim, variables, where, at)


def _check_names(
    expression: str | int, variables: dict[str, Variable], where: str, at: str
) -> None:
    if isinstance(expression, int):
        return
    try:
        names = expression_names(expression)
    except ValueError as error:
        raise ProfileError(f"{where}: {at}: {error}") from None
    unknown = sorted(names - set(variables))
    if unknown:
        raise ProfileError(
            f"{where}: {at}: shape value {unknown[0]!r} is supplied by nothing; declare it "
            f"under variables (with the config.json key that holds it, or a default)"
        )


# -- shape arithmetic -------------------------------------------------------------------------

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
}


def expression_names(expression: str) -> set[str]:
    """The value names an expression uses; ValueError for anything but + - * // and names."""
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise ValueError(f"shape expression {expression!r} does not parse") from None
    names: set[str] = set()
    _walk(tree, names)
    return names


def _walk(node: ast.expr, names: set[str]) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return
    if isinstance(node, ast.Name):
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        _walk(node.left, names)
        _walk(node.right, names)
        return
    raise ValueError(f"unsupported shape expression: {ast.unparse(node)}")


def eval_dim(expression: str | int, values: dict[str, int]) -> int | None:
    """Evaluate `2 * q_heads * head_dim` over `values`; None when a value is unknown."""
    if isinstance(expression, int):
        return expression
    return _eval(ast.parse(expression, mode="eval").body, values)


def _eval(node: ast.expr, values: dict[str, int]) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name):
        return values.get(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _eval(node.left, values), _eval(node.right, values)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.FloorDiv) and right == 0:
            return None
        return int(_OPS[type(node.op)](left, right))
    raise ValueError(f"unsupported shape expression: {ast.dump(node)}")


class ModuleRef(NamedTuple):
    """One concrete module of a model: its name on disk and where it belongs (a tuple: a
    256-expert model has 30,000+ of them)."""

    name: str
    component: str
    kind: Kind
    bias: bool
    shape: tuple[int, ...] | None
    layer: int | None = None

    @property
    def local_name(self) -> str:
        """The member's last path part, e.g. 'in_proj_a' (used to pick modules of a component)."""
        return self.name.rsplit(".", 1)[-1]

    def tensor_names(self) -> list[str]:
        if self.kind == "param":
            return [self.name]
        if self.bias:
            return [f"{self.name}.weight", f"{self.name}.bias"]
        return [f"{self.name}.weight"]
