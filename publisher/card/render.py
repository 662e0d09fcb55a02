"""Render a spec's README.md: frontmatter as data, body from sandboxed Jinja templates."""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from publisher import __version__
from publisher.card.facts import CardFacts, CheckpointFacts, build_facts
from publisher.card.frontmatter_build import build_frontmatter
from publisher.card.verify_facts import CardSigner, verify_view
from publisher.errors import TemplateError
from publisher.report import md_cell
from publisher.spec.lint import derive_inventory, is_safe_relative
from publisher.spec.model import ModelSpec

CARD_TEMPLATE = "card.md.j2"
PARTIALS = (
    "overview",
    "architecture",
    "quantization",
    "benchmarks",
    "serving",
    "quantization_process",
    "format_details",
    "environment",
    "license",
    "verify",
    "citation",
)
_BUNDLED_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
"""where an installed wheel keeps the default templates (copied in at build time)"""
PACKAGE_TEMPLATES = (
    _BUNDLED_TEMPLATES
    if _BUNDLED_TEMPLATES.is_dir()
    else Path(__file__).resolve().parents[2] / "templates"  # a source checkout's own
)


def find_templates_dir(spec_path: Path | None) -> Path:
    """PUBLISHER_TEMPLATES, else the nearest `templates/` above the spec, else the source tree's."""
    override = os.environ.get("PUBLISHER_TEMPLATES")
    if override:
        return Path(override)
    if spec_path is not None:
        for parent in spec_path.resolve().parents:
            candidate = parent / "templates"
            if (candidate / "default" / CARD_TEMPLATE).is_file():
                return candidate
    return PACKAGE_TEMPLATES


class SpecView(dict[str, Any]):
    """Spec data for templates that remembers its key path, so a missing key can be named."""

    def __init__(self, data: dict[str, Any], path: str):
        super().__init__({k: _view(v, f"{path}.{k}") for k, v in data.items()})
        self.key_path = path


def _view(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        return SpecView(value, path)
    if isinstance(value, list):
        return [_view(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


class _NamedUndefined(jinja2.StrictUndefined):
    """StrictUndefined whose message names the spec key (or card field) that is missing."""

    @property
    def _undefined_message(self) -> str:
        owner = self._undefined_obj
        name = self._undefined_name
        if isinstance(owner, SpecView):
            return f"spec key '{owner.key_path}.{name}' is not set"
        if isinstance(owner, CardFacts):
            return f"card has no field '{name}'"
        if owner is jinja2.utils.missing:
            return f"'{name}' is not defined (templates see: card, spec, tool, partial)"
        return super()._undefined_message


class _ConfinedLoader(jinja2.FileSystemLoader):
    """FileSystemLoader that also refuses files whose real path (after symlinks) leaves its roots."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        refusal = template_name_refusal(template)
        if refusal is not None:
            raise jinja2.TemplateNotFound(f"{template} ({refusal})")
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        roots = [Path(p).resolve() for p in self.searchpath]
        if not any(real.is_relative_to(root) for root in roots):
            raise jinja2.TemplateNotFound(f"{template} (resolves outside the template folders)")
        return source, filename, uptodate


TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".md")
"""What a template or override file may be named: the loader also sees the repository root, so
without this `{% include '.env' %}` or `card.overrides: {license: .env}` would put a secret
into the card."""


def template_name_refusal(name: str) -> str | None:
    """Why a template of this name is never read, or None."""
    from publisher.hub.allowlist import never_upload_reason

    parts = name.replace("\\", "/").split("/")
    if any(part.startswith(".") and part not in (".", "..") for part in parts):
        return "a hidden file; templates are never hidden files"
    if never_upload_reason(parts[-1]) is not None:
        return "a name that may hold secrets"
    if not parts[-1].lower().endswith(TEMPLATE_SUFFIXES):
        return f"not a template file ({', '.join(TEMPLATE_SUFFIXES)})"
    return None


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (keyed by source checksum, so edits recompile)."""
    from publisher.cachedir import default_cache_dir

    folder = default_cache_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home: compile each time
    return jinja2.FileSystemBytecodeCache(str(folder))


MAX_RESULT = 1_000_000  # characters, items or bits one operation in a template may make
MAX_CARD = 2_000_000  # characters in a whole card (real cards are tens of kilobytes)


class _BoundedSandbox(SandboxedEnvironment):
    """The sandbox, with every operation that can make something big bounded: `*`, `**`,
    `%` and `+`, every filter (`'%999999999s'|format('a')`, `'x'|center(10**9)`) and every
    method call (`'x'.ljust(10**9)`). A template would otherwise take all memory or never
    finish; the card as a whole is bounded by `MAX_CARD` while it renders."""

    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if (
            operator == "**"
            and _is_int(left)
            and _is_int(right)
            and right > 0
            and right * abs(left).bit_length() > MAX_RESULT
        ):
            raise jinja2.exceptions.SecurityError(f"{left} ** {right} is too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and _is_int(times)
                    and len(seq) * times > MAX_RESULT
                ):
                    raise jinja2.exceptions.SecurityError("a repeated sequence is too long")
        if operator == "%" and isinstance(left, str):
            _check_printf(left, right if isinstance(right, tuple) else (right,))
        if (
            operator == "+"
            and isinstance(left, str | list | tuple)
            and isinstance(right, str | list | tuple)
            and len(left) + len(right) > MAX_RESULT
        ):
            raise jinja2.exceptions.SecurityError("a joined sequence is too long")
        return _bounded(super().call_binop(context, operator, left, right), operator)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Every read of a value: `ns.x ~ ns.x` in a loop doubles a namespace value that
        no operator sees (`~` is not interceptable), but each round reads it here first."""
        return _bounded(super().getattr(obj, attribute), f"'{attribute}'")

    def getitem(self, obj: Any, argument: Any) -> Any:
        return _bounded(super().getitem(obj, argument), "an item")

    def wrap_str_format(self, value: Any) -> Any:
        """`'{:>999999999}'.format(x)`: the sandbox's own str.format, with widths checked."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args: Any, **kwargs: Any) -> Any:
            _check_str_format(text, args, kwargs)
            return _bounded(wrapped(*args, **kwargs), "format()")

        return checked

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_str_method(owner, name, args, kwargs)
        return _bounded(
            SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs), f"{name}()"
        )


SIZE_ARGUMENT_FILTERS = frozenset(
    {"center", "indent", "wordwrap", "truncate", "tojson", "pprint", "batch", "slice"}
)
"""Filters whose numeric arguments are sizes: one above MAX_RESULT is refused before it runs."""
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_FORMAT_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
_STR_SIZE_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _too_big(what: str) -> jinja2.exceptions.SecurityError:
    return jinja2.exceptions.SecurityError(f"{what} would be larger than {MAX_RESULT:,} characters")


def _bounded(result: Any, what: str) -> Any:
    """`result`, unless it is a string or sequence over the bound."""
    if isinstance(result, str | list | tuple | bytes) and len(result) > MAX_RESULT:
        raise _too_big(f"the result of {what}")
    return result


def _check_printf(text: str, args: tuple[Any, ...]) -> None:
    """`%`-formatting with a width or precision over the bound (`'%999999999s'`)."""
    for width, precision in _PRINTF_SPEC.findall(text):
        for number in (width, precision):
            if number.isdigit() and int(number) > MAX_RESULT:
                raise _too_big(f"'{text[:40]}' formatting")
            if number == "*" and any(_is_int(a) and a > MAX_RESULT for a in args):
                raise _too_big(f"'{text[:40]}' formatting")


def _check_str_format(text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """`'{:>999999999}'.format(x)`, or a nested width `'{:{}}'.format(x, 10**9)`."""
    for spec in _FORMAT_SPEC.findall(text):
        if any(int(n) > MAX_RESULT for n in re.findall(r"\d+", spec)):
            raise _too_big(f"'{text[:40]}' formatting")
    if "{" in text and any(_is_int(a) and a > MAX_RESULT for a in (*args, *kwargs.values())):
        raise _too_big(f"'{text[:40]}' formatting")


def _check_str_method(text: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if name in _STR_SIZE_METHODS and any(
        _is_int(a) and a > MAX_RESULT for a in (*args, *kwargs.values())
    ):
        raise _too_big(f"'...'.{name}()")
    if name in ("format", "format_map"):
        _check_str_format(text, args, kwargs)
    if name == "replace" and len(args) >= 2:
        _check_replace(text, args[0], args[1])
    if name == "join" and args:
        _check_join(text, args[0])


def _check_replace(text: Any, old: Any, new: Any) -> None:
    text, old, new = str(text), str(old), str(new)
    if len(new) > len(old):
        count = text.count(old) if old else len(text) + 1
        if len(text) + count * (len(new) - len(old)) > MAX_RESULT:
            raise _too_big("replace()")


def _check_join(separator: Any, items: Any) -> None:
    if not isinstance(items, list | tuple | range):
        return
    size = len(str(separator)) * max(len(items) - 1, 0)
    size += sum(len(item) if isinstance(item, str) else 20 for item in items)
    if size > MAX_RESULT:
        raise _too_big("join()")


_PASSED = (jinja2.runtime.Context, jinja2.Environment, jinja2.nodes.EvalContext)
"""What Jinja passes to a filter before its value (pass_context and the like)."""


def _bounded_filter(name: str, function: Any) -> Any:
    """`function` (a Jinja filter) with its sizes checked before it runs and its result after."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not isinstance(a, _PASSED)]
        rest = values[1:]  # the value piped in comes first
        if name in SIZE_ARGUMENT_FILTERS and any(
            _is_int(a) and a > MAX_RESULT for a in (*rest, *kwargs.values())
        ):
            raise _too_big(f"the {name} filter")
        if name == "format" and values:
            _check_printf(str(values[0]), tuple(rest) or tuple(kwargs.values()))
        if name == "replace" and len(rest) >= 2:
            _check_replace(values[0], rest[0], rest[1])
        if name == "join" and values:
            separator = rest[0] if rest else kwargs.get("d", "")
            items = values[0] if isinstance(values[0], list | tuple | range) else None
            if items is not None:
                _check_join(separator, items)
        return _bounded(function(*args, **kwargs), f"the {name} filter")

    return guarded


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class RenderOptions:
    spec_path: Path
    repo_root: Path
    templates_dir: Path
    checkpoint: CheckpointFacts | None = None
    signer: CardSigner | None = None


def make_environment(options: RenderOptions) -> SandboxedEnvironment:
    return _environment(str(options.templates_dir), str(options.repo_root))


@functools.lru_cache(maxsize=8)
def _environment(templates_dir: str, repo_root: str) -> SandboxedEnvironment:
    """One environment per template folder, so templates compile once per process (Jinja
    re-checks each file's mtime before reuse, so edits are still picked up)."""
    env = _BoundedSandbox(
        loader=_ConfinedLoader([templates_dir, repo_root]),
        bytecode_cache=_bytecode_cache(),
        undefined=_NamedUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = md_cell
    env.filters["oneline"] = lambda text: re.sub(r"\s+", " ", str(text)).strip()
    env.filters["table_row"] = lambda cells: "| " + " | ".join(str(c) for c in cells) + " |"
    env.filters["table_rule"] = lambda cells: "|" + "---|" * len(cells)
    env.filters["hub_link"] = lambda repo: f"[{repo}](https://huggingface.co/{repo})"
    for name, function in list(env.filters.items()):
        env.filters[name] = _bounded_filter(name, function)
    return env


def render_card(spec: ModelSpec, options: RenderOptions) -> str:
    """The complete README.md text for a valid spec."""
    profile, inventory = derive_inventory(spec)
    facts = build_facts(spec, profile, inventory, options.checkpoint)
    facts.verify = verify_view(spec.repo_id, options.signer)
    body = render_body(spec, facts, options)
    return build_frontmatter(spec) + "\n" + body


def render_body(spec: ModelSpec, facts: CardFacts, options: RenderOptions) -> str:
    env = make_environment(options)
    template_name = spec.card.template
    if not re.fullmatch(r"[A-Za-z0-9_-]+", template_name):
        raise TemplateError(
            f"template name '{template_name}' must be a plain folder name",
            where=str(options.spec_path),
        )
    overrides = dict(spec.card.overrides)
    for name, path in overrides.items():
        if name not in PARTIALS:
            raise TemplateError(
                f"card.overrides names '{name}', which is not a partial ({', '.join(PARTIALS)})",
                where=str(options.spec_path),
            )
        if not is_safe_relative(path):
            raise TemplateError(
                f"override path '{path}' leaves the repository", where=str(options.spec_path)
            )

    def partial(name: str) -> str:
        if name in overrides:
            return overrides[name]
        return f"{template_name}/partials/{name}.md.j2"

    context = {
        "card": facts,
        "spec": SpecView(spec.model_dump(mode="json", by_alias=True), "spec"),
        "tool": {
            "version": __version__,
            "spec_file": options.spec_path.name,
            "checkpoint": options.checkpoint is not None,
        },
        "partial": partial,
    }
    try:
        template = env.get_template(f"{template_name}/{CARD_TEMPLATE}")
        text = _render_bounded(template, context)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(
            f"template syntax error: {error.message}",
            where=f"{error.filename or error.name}:{error.lineno}",
        ) from None
    except jinja2.TemplateNotFound as error:
        raise TemplateError(
            f"template not found: {error.name}", where=str(options.templates_dir)
        ) from None
    except jinja2.UndefinedError as error:
        raise TemplateError(str(error), where=_template_position(sys.exc_info()[2])) from None
    except jinja2.exceptions.SecurityError as error:
        refused_at = _template_position(sys.exc_info()[2]) or str(options.templates_dir)
        raise TemplateError(f"template refused by the sandbox: {error}", where=refused_at) from None
    except UnicodeDecodeError as error:
        raise TemplateError(
            f"a template is not UTF-8 text (byte {error.start}); save it as UTF-8",
            where=str(options.templates_dir),
        ) from None
    except Exception as error:
        # 1/0, 1 + "a", an unknown test, a range over the sandbox's limit, endless recursion:
        # the template's fault when the failure is in a template frame, else a bug of ours.
        where = _template_position(sys.exc_info()[2])
        if where is None:
            raise
        message = " ".join(str(error).split())[:200]
        raise TemplateError(
            f"template error: {type(error).__name__}: {message}", where=where
        ) from None
    return _tidy(text)


def _render_bounded(template: jinja2.Template, context: dict[str, Any]) -> str:
    """The template's text, stopped as soon as it passes MAX_CARD characters."""
    parts: list[str] = []
    size = 0
    for part in template.generate(context):
        size += len(part)
        if size > MAX_CARD:
            raise jinja2.exceptions.SecurityError(
                f"the card would be larger than {MAX_CARD:,} characters"
            )
        parts.append(part)
    return "".join(parts)


def _template_position(tb: TracebackType | None) -> str | None:
    """The last template file and line in a traceback (Jinja maps frames to template lines)."""
    where = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _tidy(text: str) -> str:
    """Blank lines around headings, tables, lists and code blocks; never two in a row."""
    out: list[str] = []
    kinds: list[str] = []
    in_code = False
    for line in text.splitlines():
        kind = _line_kind(line, in_code)
        if kind == "fence":
            in_code = not in_code
            kind = "fence-open" if in_code else "fence-close"
        previous = kinds[-1] if kinds else "blank"
        if kind == "blank":
            if in_code:
                out.append("")
                kinds.append("code")
            elif previous != "blank":
                out.append("")
                kinds.append("blank")
            continue
        if previous not in ("blank",) and _needs_gap(previous, kind):
            out.append("")
            kinds.append("blank")
        out.append(line if kind == "code" else line.rstrip())
        kinds.append(kind)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _line_kind(line: str, in_code: bool) -> str:
    if in_code and not line.startswith("```"):
        return "code"
    stripped = line.strip()
    if not stripped:
        return "blank"
    if stripped.startswith("```"):
        return "fence"
    if stripped.startswith("#"):
        return "heading"
    if stripped.startswith("|"):
        return "table"
    if stripped.startswith("- "):
        return "list"
    return "text"


def _needs_gap(previous: str, current: str) -> bool:
    if previous in ("code", "fence-open") or current in ("code", "fence-close"):
        return False
    if "heading" in (previous, current):
        return True
    return previous != current
