"""Markdown built from data, shown without live links of unsafe schemes.

The notebooks describe results in Markdown, and much of that text comes from
the inputs: codebook examples, account names, load warnings. Rendered as
Markdown by Jupyter or nbconvert, ``[click](javascript:alert(1))`` or raw
``<a href="javascript:...">`` in a codebook would become a live link in the
HTML report. :class:`Markdown` is a drop-in for ``IPython.display.Markdown``
that renders with markdown-it (CommonMark, tables) and then sanitises the HTML
with nh3: only ``http``, ``https`` and ``mailto`` links stay, scripts, event
handlers and styles are dropped.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

__all__ = ["SAFE_URL_SCHEMES", "Markdown", "render_markdown"]

#: Link schemes that stay clickable.
SAFE_URL_SCHEMES = frozenset({"http", "https", "mailto"})

_RENDERER = MarkdownIt("commonmark").enable("table")


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML (links only with :data:`SAFE_URL_SCHEMES`)."""
    rendered = _RENDERER.render(str(text))
    return nh3.clean(rendered, url_schemes=set(SAFE_URL_SCHEMES), link_rel="noopener noreferrer")


class Markdown:
    """Shows Markdown as sanitised HTML in a notebook (same call as IPython's ``Markdown``)."""

    def __init__(self, data: str = "") -> None:
        self.data = str(data)

    def _repr_html_(self) -> str:
        return render_markdown(self.data)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.data)

    def __repr__(self) -> str:
        return f"Markdown({html.escape(self.data[:60])!r})"
