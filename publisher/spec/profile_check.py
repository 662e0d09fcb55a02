"""`publisher profile check`: a profile against the model transformers builds for its family.

The model of the profile's model_type is built on the meta device (no memory, no download)
from transformers' own default config, with the expert count and the depth cut down so the
check takes a second; the names and shapes are the ones its checkpoints carry (transformers'
save-time conversions applied, as for a model loaded from a published checkpoint: experts one
by one, SigLIP's `vision_model.` level kept). Every name or shape that differs is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from publisher.spec.from_config import FFN_KEYS_ABSENT
from publisher.spec.profile import Profile, load_profile

SMALL_EXPERTS = 4
SMALL_LAYERS = 4
SMALL_VISION_DEPTH = 2
EXPERT_KEYS = ("num_experts", "n_routed_experts", "num_local_experts")
VISION_DEPTH_KEYS = ("depth", "num_hidden_layers")


class TorchMissing(RuntimeError):
    """torch or transformers is not installed (the check needs them, nothing else does)."""


@dataclass
class ProfileCheck:
    profile: Profile
    model_class: str
    tensors: int
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def check_profile_against_transformers(name_or_path: str) -> ProfileCheck:
    """Load the profile (ProfileError / ProfileNotFound when unusable) and compare it with
    transformers' model of its family."""
    profile = load_profile(name_or_path)
    try:
        import torch
        import transformers
    except ImportError as error:
        raise TorchMissing(
            f"publisher profile check builds the family's model with transformers and needs "
            f"torch and transformers ({error.name} is not installed): pip install torch "
            "transformers"
        ) from None
    model_class = next(
        (getattr(transformers, a) for a in profile.architectures if hasattr(transformers, a)),
        None,
    )
    if model_class is None:
        return ProfileCheck(
            profile,
            "-",
            0,
            [
                f"transformers {transformers.__version__} has none of the profile's "
                f"architectures ({', '.join(profile.architectures)})"
            ],
        )
    config = small_config(profile)
    saved = checkpoint_tensors(model_class, config, torch)
    differences = compare(profile, config.to_dict(), saved)
    wanted = layout_keys_from_transformers(profile, transformers)
    if set(profile.layout_keys) != set(wanted):
        differences.append(
            f"layout_keys: transformers defaults {', '.join(wanted) or 'no per-layer key'} to "
            f"a value that is not what its absence means; the profile lists "
            f"{', '.join(profile.layout_keys) or 'none'}"
        )
    return ProfileCheck(profile, model_class.__name__, len(saved), differences)


def layout_keys_from_transformers(profile: Profile, transformers: Any) -> list[str]:
    """What a profile's `layout_keys` must list: the per-layer FFN keys whose transformers
    default for the family differs from what their absence means, and, for a hybrid, the
    layer-kinds keys its config class fills in."""
    defaults = transformers.AutoConfig.for_model(profile.model_type).to_dict()
    text = defaults.get("text_config")
    defaults = text if isinstance(text, dict) else defaults
    keys = [
        key
        for key, absent in FFN_KEYS_ABSENT.items()
        if key in defaults and defaults[key] is not None and defaults[key] != absent
    ]
    layer_keys = profile.layer_types_key
    if len(profile.mixers) > 1:
        keys += [
            key
            for key in ([layer_keys] if isinstance(layer_keys, str) else layer_keys)
            if defaults.get(key) is not None
        ]
    return keys


def small_config(profile: Profile) -> Any:
    """transformers' default config for the family, with few experts and layers."""
    from transformers import AutoConfig

    config = AutoConfig.for_model(profile.model_type)
    text = config.get_text_config()
    for key in EXPERT_KEYS:
        if isinstance(getattr(text, key, None), int) and getattr(text, key) > SMALL_EXPERTS:
            setattr(text, key, SMALL_EXPERTS)
    keys = [profile.layer_types_key] if isinstance(profile.layer_types_key, str) else []
    keys += [] if isinstance(profile.layer_types_key, str) else list(profile.layer_types_key)
    per_layer = any(getattr(text, key, None) for key in keys)
    if not per_layer and getattr(text, "num_hidden_layers", 0) > SMALL_LAYERS:
        text.num_hidden_layers = SMALL_LAYERS
    vision = getattr(config, "vision_config", None)
    for key in VISION_DEPTH_KEYS:
        if vision is not None and isinstance(getattr(vision, key, None), int):
            setattr(vision, key, min(getattr(vision, key), SMALL_VISION_DEPTH))
    config.architectures = list(profile.architectures[:1])
    return config


def checkpoint_tensors(model_class: Any, config: Any, torch: Any) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes as the family's checkpoints carry them (meta device)."""
    from transformers.conversion_mapping import get_model_conversion_mapping
    from transformers.core_model_loading import revert_weight_conversion
    from transformers.modeling_utils import remove_tied_weights_from_state_dict

    with torch.device("meta"):
        model = model_class(config)
    model._weight_conversions = get_model_conversion_mapping(model, add_legacy=False)
    state = remove_tied_weights_from_state_dict(model.state_dict(), model)
    state = revert_weight_conversion(model, state)
    return {name: tuple(tensor.shape) for name, tensor in state.items()}


def compare(
    profile: Profile, config: dict[str, Any], saved: dict[str, tuple[int, ...]]
) -> list[str]:
    """Every name the profile predicts that the model lacks, every tensor the profile does not
    name, and every shape that differs."""
    from publisher.spec.derive import derive
    from publisher.spec.from_config import architecture_fields
    from publisher.spec.model import Architecture

    fields = architecture_fields(config, profile)
    fields["parameters"] = {"total": "1"}
    arch = Architecture.model_validate(fields)
    inventory = derive(arch, profile)
    problems = [
        f"{component}: no shape for {', '.join(keys)} (config.json has no such value)"
        for component, keys in inventory.unsupplied.items()
    ]
    predicted: dict[str, tuple[int, ...] | None] = {}
    for ref in inventory.all_modules():
        weight, *rest = ref.tensor_names()
        predicted[weight] = ref.shape
        for bias in rest:
            predicted[bias] = ref.shape[:1] if ref.shape else None
    found: list[str] = []
    for name in sorted(set(predicted) - set(saved)):
        found.append(f"{name}: named by the profile, not in the model")
    for name in sorted(set(saved) - set(predicted)):
        found.append(f"{name} {list(saved[name])}: in the model, named by no profile member")
    for name in sorted(set(saved) & set(predicted)):
        want = predicted[name]
        if want is not None and want != saved[name]:
            found.append(
                f"{name}: the profile's shape {list(want)}, the model's {list(saved[name])}"
            )
    return problems + _grouped(found)


_NUMBERED = re.compile(r"\.(layers|experts|blocks)\.\d+\.")
_PLACEHOLDER = {"layers": "{L}", "experts": "{E}", "blocks": "{B}"}


def _grouped(lines: list[str]) -> list[str]:
    """One line per pattern: 'model.layers.{L}.self_attn.k_proj.weight …: … (32 times)'."""
    counts: dict[str, int] = {}
    for line in lines:
        key = _NUMBERED.sub(lambda m: f".{m.group(1)}.{_PLACEHOLDER[m.group(1)]}.", line)
        counts[key] = counts.get(key, 0) + 1
    return [key if n == 1 else f"{key} ({n} times)" for key, n in counts.items()]
