"""The ICP card rendered from a Jinja2 template, in HTML or Markdown, with no value trusted.

:func:`render_card` fills the shipped template in ``icp_helpers/templates/``
or the user's own named in the config (``templates.card_html``,
``templates.card_markdown``; :func:`template_for`), in a sandbox: a template is
data, not code.

Every piece of text in the card comes from a CRM export or an interview, so
none of it is trusted: the HTML environment escapes every value
(``autoescape`` on for any template name), and the Markdown environment
escapes every value for Markdown, so names and quotes cannot add tags, links
or formatting.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from ..data.config import TEMPLATES_DIR, ProjectConfig
from .personas import NO_EVIDENCE

__all__ = [
    "TemplateSecurityError",
    "DEFAULT_TEMPLATES",
    "SURENESS",
    "TIER_MEANINGS",
    "card_iframe",
    "escape_markdown",
    "render_card",
    "template_for",
    "tier_guide",
    "write_card",
]

#: Shipped templates per output format.
DEFAULT_TEMPLATES = {
    "html": TEMPLATES_DIR / "icp_card.html.j2",
    "markdown": TEMPLATES_DIR / "icp_card.md.j2",
}
_CONFIG_KEYS = {"html": "card_html", "markdown": "card_markdown"}

Format = Literal["html", "markdown"]

# Markdown metacharacters that start links, images, emphasis, code, headings or
# table cells are escaped with a backslash; <, > and & become entities so no raw
# HTML survives; bare URLs are broken up so they are not turned into links; and
# newlines collapse so a value cannot start a block of its own.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~])")
_MD_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=\bwww)(\.)")


def escape_markdown(value: Any) -> str:
    """Escape text for Markdown so it shows literally: no tags, links, emphasis or table breaks.

    ``Markup`` values (trusted output of the template's own filters) pass
    through unchanged; ``None`` becomes an empty string.
    """
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    text = " ".join(str(value).split())
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_AUTOLINK.sub(lambda m: "\\" + m.group(0), text)


# -- formatting filters, shared by both formats ------------------------------


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pct(value: Any, digits: int = 0) -> str:
    return NO_EVIDENCE if _is_missing(value) else f"{float(value):.{digits}%}"


def _num(value: Any, digits: int = 1) -> str:
    return NO_EVIDENCE if _is_missing(value) else f"{float(value):,.{digits}f}"


def _pvalue(value: Any) -> str:
    if _is_missing(value):
        return NO_EVIDENCE
    value = float(value)
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _interval(low: Any, high: Any, digits: int = 1) -> str:
    if _is_missing(low) or _is_missing(high):
        return NO_EVIDENCE
    return f"{float(low):.{digits}f}–{float(high):.{digits}f}"


def _times(value: Any) -> str:
    """A lift as readers say it: ``3×`` (one decimal below 10)."""
    if _is_missing(value):
        return NO_EVIDENCE
    value = float(value)
    if value < 1:  # a weaker-fit lift: two significant figures, so 0.04 does not read as 0
        return f"{value:.2g}×"
    return f"{value:.0f}×" if value >= 10 else f"{value:.1f}×".replace(".0×", "×")


#: How sure a q-value lets us be, in words (the card's glossary explains them).
SURENESS = ((0.001, "very sure"), (0.01, "sure"), (0.05, "fairly sure"))


def _sureness(value: Any) -> str:
    if _is_missing(value):
        return "not tested"
    for limit, words in SURENESS:
        if float(value) < limit:
            return words
    return "not sure"


_FILTERS = {
    "pct": _pct,
    "num": _num,
    "pvalue": _pvalue,
    "interval": _interval,
    "times": _times,
    "sureness": _sureness,
}

#: What each tier means for the people who act on it.
TIER_MEANINGS = {
    "A": "strong match: reach out first",
    "B": "partial match: qualify, then nurture",
    "C": "weak match: low priority",
}


def _points(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def tier_guide(tiers: Mapping[str, float], points_max: float | None) -> list[dict]:
    """Each tier's points range and meaning, best first, the lowest tier below the last cut-off.

    ``{"A": 33, "B": 16}`` with a maximum of 61 gives A 33-61, B 16-32, C 0-15
    (whole points; with fractional points the ranges read "16 to under 33").
    """
    if not tiers:
        return []
    ordered = sorted(tiers.items(), key=lambda item: -float(item[1]))
    whole = all(float(cut).is_integer() for _, cut in ordered) and (
        points_max is None or float(points_max).is_integer()
    )
    names = [name for name, _ in ordered]
    if set(names) <= {"A", "B"}:
        lowest = "C"  # also when equal cut-offs collapsed B: the scorer's lowest tier is C
    else:
        lowest = chr(ord(max(names)) + 1) if all(len(n) == 1 for n in names) else "rest"
    guide, upper = [], points_max
    for name, cut in [*ordered, (lowest, 0.0)]:
        cut = float(cut)
        if upper is None:
            points = f"{_points(cut)} or more"
        elif whole:
            top = upper if name == names[0] else upper - 1
            points = f"{_points(cut)}–{_points(top)}" if top > cut else _points(cut)
        else:
            points = f"{_points(cut)} to {'' if name == names[0] else 'under '}{_points(upper)}"
        guide.append({"tier": name, "points": points, "meaning": TIER_MEANINGS.get(name, "")})
        upper = cut
    return guide


def _environment(fmt: Format, folder: Path) -> Environment:
    # sandboxed: a template is shared and copied like a config, so it is data, not code
    # (no attribute walks to __globals__, no calls that change objects)
    if fmt == "html":
        env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader(str(folder)),
            # on for every template name, including a user's *.j2 or *.txt
            autoescape=select_autoescape(default_for_string=True, default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    else:
        env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader(str(folder)),
            autoescape=False,  # HTML escaping is wrong for Markdown; finalize escapes instead
            finalize=escape_markdown,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    env.filters.update(_FILTERS)
    return env


class TemplateSecurityError(ValueError):
    """A card template that reaches outside its values (attributes of Python internals, calls)."""


def template_for(config: ProjectConfig | None, fmt: Format = "html") -> Path:
    """The template to render: the config's ``templates.card_html``/``card_markdown``, else the shipped one."""
    if fmt not in DEFAULT_TEMPLATES:
        raise ValueError(f"unknown card format {fmt!r}; allowed: html, markdown")
    custom = config.template_path(_CONFIG_KEYS[fmt]) if config is not None else None
    return custom if custom is not None else DEFAULT_TEMPLATES[fmt]


def render_card(context: Mapping[str, Any], *, template: str | Path | None = None, fmt: Format = "html") -> str:
    """Render the ICP card from a context made by :func:`build_card_context`.

    Parameters
    ----------
    context : mapping
        Template variables.
    template : str or Path, optional
        A Jinja2 template file; defaults to the shipped one for ``fmt``.
    fmt : {"html", "markdown"}
        Output format; decides how values are escaped, whatever the template is called.

    Returns
    -------
    str
    """
    if fmt not in DEFAULT_TEMPLATES:
        raise ValueError(f"unknown card format {fmt!r}; allowed: html, markdown")
    path = Path(template) if template is not None else DEFAULT_TEMPLATES[fmt]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: card template not found")
    env = _environment(fmt, path.parent)
    try:
        return env.get_template(path.name).render(**context)
    except SecurityError as exc:
        raise TemplateSecurityError(
            f"{path}: the card template tries something templates may not do ({exc}); "
            "templates can show the card's values, loop and format them, not reach into Python"
        ) from None


def card_iframe(card_html: str, *, height: int = 1600) -> str:
    """The card as a sandboxed ``<iframe srcdoc>`` for showing inline in a notebook.

    The card's own CSS stays inside the frame, and the empty ``sandbox``
    attribute forbids scripts in it.
    """
    # wrapped in a <div>: IPython warns about HTML that starts with <iframe>
    return (
        '<div class="icp-card-frame"><iframe sandbox="" title="ICP card" '
        f'style="width:100%;height:{int(height)}px;border:1px solid #ddd" '
        f'srcdoc="{html.escape(card_html, quote=True)}"></iframe></div>'
    )


def write_card(
    context: Mapping[str, Any], run_dir: str | Path, *, config: ProjectConfig | None = None
) -> dict[str, Path]:
    """Render the card in both formats with the config's templates; write ``icp_card.html`` and ``.md``."""
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for fmt, name in (("html", "icp_card.html"), ("markdown", "icp_card.md")):
        text = render_card(context, template=template_for(config, fmt), fmt=fmt)
        written[fmt] = folder / name
        written[fmt].write_text(text, encoding="utf-8")
    return written
