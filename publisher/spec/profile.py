"""Architecture profiles: how a model family names its modules on disk, as data.

A profile (publisher/profiles/NAME.yaml) lists components (MLP projections, DeltaNet conv1d, …),
each made of member modules with a path pattern, a scope saying where they repeat, a kind and
the logical shape of their weight. Expanding a profile over an architecture gives every module
of the model and the component it belongs to.
"""

from __future__ import annotations

import ast
import operator
from functools import cache
from importlib import resources
from typing import Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["linear", "conv", "embedding", "norm", "param"]
Scope = str  # global | layer | vision | vision_block | expert | a mixer kind


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    scope: Scope
    path: str
    kind: Kind
    bias: bool = False
    shape: list[str | int] = Field(default_factory=list)


class Component(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    label: str
    unit: Literal["modules", "tensors"] = "modules"
    when: Literal["separate_lm_head"] | None = None
    include: list[str] = Field(default_factory=list)
    members: list[Member] = Field(default_factory=list)


class Mixer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    layer_type: str
    aliases: list[str]
    label: str


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    title: str
    model_type: str
    architectures: list[str]
    ffn: Literal["dense", "moe"]
    mixers: dict[str, Mixer]
    ffn_aliases: dict[str, list[str]]
    components: list[Component]

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.components if c.id == component_id), None)

    def mixer_aliases(self) -> dict[str, str]:
        table = {kind: kind for kind in self.mixers}
        for kind, mixer in self.mixers.items():
            table.update({alias: kind for alias in mixer.aliases})
        return table

    def ffn_alias_table(self) -> dict[str, str]:
        return {alias: kind for kind, aliases in self.ffn_aliases.items() for alias in aliases}


class ProfileNotFound(LookupError):
    pass


def available_profiles() -> list[str]:
    folder = resources.files("publisher") / "profiles"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def load_profile(name: str) -> Profile:
    """Load a packaged profile, resolving `extends` (components are appended, then removed)."""
    return Profile.model_validate(_raw_profile(name, ()))


def _raw_profile(name: str, seen: tuple[str, ...]) -> dict[str, object]:
    if name in seen:
        raise ProfileNotFound(f"profile 'extends' cycle: {' → '.join((*seen, name))}")
    known = available_profiles()
    if name not in known:  # a spec's value never becomes a path (it could be 5,000 characters)
        from publisher.spec.loader import shown_path

        raise ProfileNotFound(
            f"unknown architecture profile '{shown_path(name, 60)}' (known: {', '.join(known)})"
        )
    path = resources.files("publisher") / "profiles" / f"{name}.yaml"
    data = yaml.load(
        path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return dict(data)
    parent = _raw_profile(str(parent_name), (*seen, name))
    removed = set(data.pop("remove_components", []))
    components = [c for c in parent["components"] if c["id"] not in removed]  # type: ignore[attr-defined]
    components += data.pop("components", [])
    merged = {**parent, **data, "components": components}
    return merged


# -- shape arithmetic -------------------------------------------------------------------------

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
}


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
