"""The one render path: papermill executes a notebook, nbconvert renders it to HTML.

The CLI (``icp run``), the tests and the batch reruns all call
:func:`execute_notebook`, so a report looks the same however it was made.
Executed notebooks keep their outputs (and, when a cell fails, papermill's
error banner at the top); the HTML copy hides all code and embeds every
image, so it opens offline.

Around it: :func:`run_quarter` runs one quarter's notebooks into a folder
beside the target and moves it into place only when complete (checked by
:func:`verify_run_dir`), :func:`run_batch` runs many quarters, in parallel
processes if asked, then the drift notebook, and the ``index.html`` pages and
``run.json`` record what ran on which inputs.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..data.config import NOTEBOOKS_DIR

__all__ = [
    "KERNEL_NAME",
    "LAB_ONLY_TAG",
    "NotebookError",
    "NotebookResult",
    "execute_notebook",
    "external_urls",
    "render_html",
]

#: Cell tag of notebook cells meant for JupyterLab only (parameters, file lists): not rendered.
LAB_ONLY_TAG = "lab-only"

#: The kernelspec name notebooks declare; the runner always starts it with ``sys.executable``.
KERNEL_NAME = "python3"

# nbconvert's lab template loads require.js, MathJax and mermaid from CDNs and
# widget managers from unpkg; a report must open without a network, so those
# blocks are emptied. Everything else (CSS, PNG outputs) is already inline.
_OFFLINE_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style>
  /* Reader mode: wide tables scroll inside their box, never widen the page (phones). */
  .jp-OutputArea-output { overflow-x: auto; max-width: 100%; }
  .jp-RenderedImage img { max-width: 100%; height: auto; }
  .icp-table-wrap { overflow-x: auto; max-width: 100%; }
  table.icp-table { border-collapse: collapse; font-size: 13px; }
  table.icp-table caption { text-align: left; font-weight: 600; padding: .3rem 0; }
  table.icp-table th, table.icp-table td { padding: .25rem .55rem; border-bottom: 1px solid #d1d9e0;
    text-align: left; vertical-align: top; }
  table.icp-table td { font-variant-numeric: tabular-nums; }
  @media (max-width: 640px) {
    .jp-Notebook { padding: 8px !important; }
    body { font-size: 15px; }
    .dt-container .dt-layout-row { display: block; }
  }
  @media print {
    .jp-OutputArea-output, .icp-table-wrap { overflow: visible !important; }
    table { font-size: 7.5pt !important; width: 100% !important; table-layout: auto; }
    th, td { white-space: normal !important; overflow-wrap: anywhere; }
    .jp-RenderedImage, .jp-RenderedImage img, tr { break-inside: avoid; page-break-inside: avoid; }
    h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
    .dt-length, .dt-search, .dt-paging { display: none !important; }
  }
</style>
{%- endblock extra_css -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ ((output | get_metadata('alt', 'image/png')) or 'Chart') | escape_html }}">
</div>
{%- endblock data_png %}
"""
_OFFLINE_TEMPLATE_NAME = "icp_offline_report.html.j2"

# src="..." / href="..." / url(...) that point at a remote host.
_URL_ATTR_RE = re.compile(
    r"""<(?P<tag>[a-zA-Z][\w-]*)\b[^>]*?\b(?P<attr>src|href)\s*=\s*["']?(?P<url>(?:https?:)?//[^"'\s>]+)""",
    re.IGNORECASE,
)
_CSS_URL_RE = re.compile(r"""(?:url\(|@import\s+)\s*["']?(?P<url>(?:https?:)?//[^"')\s]+)""", re.IGNORECASE)


class NotebookError(RuntimeError):
    """A notebook raised while executing; ``result`` says where its outputs are."""

    def __init__(self, message: str, result: NotebookResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class NotebookResult:
    """What one notebook execution produced.

    Attributes
    ----------
    name : str
        Notebook name without ``.ipynb``.
    status : str
        ``"ok"`` or ``"failed"``.
    notebook_path : Path
        The executed copy (outputs kept; the error banner on top when it failed).
    html_path : Path or None
        The rendered report, when HTML was asked for.
    parameters : dict
        The parameters injected into the notebook.
    error : str or None
        ``"<cell> <exception name>: <message>"`` of the failing cell.
    started_at : str
        ISO timestamp (UTC) of the start.
    kernel_start_s, execution_s, render_s, duration_s : float or None
        Seconds to start the kernel, to run the cells, to render HTML, and in total.
    """

    name: str
    status: str
    notebook_path: Path
    html_path: Path | None
    parameters: dict[str, Any]
    error: str | None = None
    started_at: str = ""
    kernel_start_s: float | None = None
    execution_s: float | None = None
    render_s: float | None = None
    duration_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (paths as strings), as written to ``run.json``."""
        data = asdict(self)
        for key in ("notebook_path", "html_path"):
            data[key] = None if data[key] is None else str(data[key])
        return data


def _kernel_manager_class():
    """An nbclient kernel manager that always launches ipykernel with ``sys.executable``.

    A kernelspec named ``python3`` in the user's Jupyter folders may point at a
    different interpreter (a conda base, a system Python); resolving the spec by
    name could then run the notebooks without this project's packages. The
    runner's own interpreter is the one whose packages are known to be there.
    """
    import zmq
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec

    class InterpreterKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            # ipykernel warns on plain TCP; encrypt the local sockets when libzmq can.
            if zmq.has("curve"):
                self.transport_encryption = "auto"

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts (SIGINT) the kernel at the start of every
            # shutdown. When a shell message is still being handled (ipykernel arms
            # Python's SIGINT handler for each one), the kernel logs "KeyboardInterrupt
            # caught in kernel." on stderr of a run that succeeded. A shutdown needs no
            # interrupt: the shutdown request goes over the control channel, and a
            # kernel that does not stop in time is killed. Explicit interrupts still work.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        @property
        def kernel_spec(self) -> KernelSpec:
            if self._kernel_spec is None:
                self._kernel_spec = KernelSpec(
                    name=KERNEL_NAME, resource_dir=RESOURCES, **get_kernel_dict()
                )
            return self._kernel_spec

    return InterpreterKernelManager


def _resolve_targets(config_path: str, quarter: str, run_dir: str) -> tuple[str, str, Path]:
    """Fill in the ``""`` defaults of the three standard parameters."""
    from ..data.config import load_config, resolve_config_path, run_dir_for

    config_file = resolve_config_path(config_path or None)
    if not quarter or not run_dir:
        config = load_config(config_file)
        if not quarter:
            from ..data.loaders import latest_quarter  # heavy import, only when needed

            quarter = str(latest_quarter(config))
        folder = run_dir_for(config, quarter, run_dir or None)
    else:
        folder = Path(run_dir).expanduser().resolve()
    return str(config_file), quarter, folder


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _timings(nb) -> tuple[float | None, float | None]:
    """Kernel start and cell execution seconds from papermill's metadata.

    Papermill stamps the notebook's start before the kernel launches and each
    cell's start when the kernel begins it, so the gap up to the first cell is
    the kernel start-up.
    """
    meta = nb.metadata.get("papermill", {})
    start, end = _parse_time(meta.get("start_time")), _parse_time(meta.get("end_time"))
    cell_starts = [
        t
        for cell in nb.cells
        if cell.get("cell_type") == "code"
        and (t := _parse_time(cell.get("metadata", {}).get("papermill", {}).get("start_time")))
    ]
    if start is None or not cell_starts:
        return None, None
    first = min(cell_starts)
    kernel = max((first - start).total_seconds(), 0.0)
    execution = (end - first).total_seconds() if end else None
    return kernel, execution


def external_urls(html: str) -> list[str]:
    """URLs of remote resources in an HTML page (``src``/``href`` attributes, CSS ``url()``).

    Used to check that a rendered report loads nothing from the network;
    any ``http(s)://`` or protocol-relative URL counts.
    """
    found = [m.group("url") for m in _URL_ATTR_RE.finditer(html)]
    found += [m.group("url") for m in _CSS_URL_RE.finditer(html)]
    return sorted(set(found))


def render_html(notebook_path: str | Path, *, html_path: str | Path | None = None) -> Path:
    """Render an executed notebook to a self-contained HTML report with no code.

    Inputs and prompts are excluded, images are embedded as base64, and the
    CDN scripts of nbconvert's lab template are left out, so the page opens
    offline and shows only narrative, tables and figures. Cells tagged
    ``lab-only`` (parameter notes, the files a step writes) are left out; each
    chart gets alt text from its section and the page a title from the
    notebook's first heading and quarter.

    Parameters
    ----------
    notebook_path : str or Path
        The executed notebook.
    html_path : str or Path, optional
        Where to write; defaults to the notebook path with ``.html``.
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    notebook_path = Path(notebook_path)
    html_path = Path(html_path) if html_path else notebook_path.with_suffix(".html")
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="lab",
        template_file=_OFFLINE_TEMPLATE_NAME,
        extra_loaders=[jinja2.DictLoader({_OFFLINE_TEMPLATE_NAME: _OFFLINE_TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    # cells for whoever runs the notebook (parameters, the files a step writes) stay out of the report
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={LAB_ONLY_TAG}), enabled=True)
    from .reader import chart_alt_texts, page_title

    nb = nbformat.read(notebook_path, as_version=4)
    chart_alt_texts(nb, skip_tags=(LAB_ONLY_TAG,))
    nb.metadata["title"] = _page_title(nb, page_title(nb, fallback=notebook_path.stem))
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": notebook_path.stem}})
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _page_title(nb, heading: str) -> str:
    """``<first heading> · <quarter>`` (or ``<from> to <to>``) from papermill's parameters."""
    params = nb.metadata.get("papermill", {}).get("parameters", {}) or {}
    if params.get("from_quarter") and params.get("to_quarter"):
        return f"{heading} · {params['from_quarter']} to {params['to_quarter']}"
    if params.get("quarter"):
        return f"{heading} · {params['quarter']}"
    return heading


def _cell_error(nb) -> str | None:
    """``"cell N: Name: message"`` of the first cell with an error output."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
    return None


def _timeout_error(nb, timeout: float | None) -> str | None:
    """``"cell N (first line) ran longer than ..."`` for the cell the timeout stopped.

    That is the last cell that started: the runner's kernel manager sends no
    interrupt on shutdown, so the cell need not hold a KeyboardInterrupt output.
    """
    started = [
        index for index, cell in enumerate(nb.cells)
        if cell.get("cell_type") == "code" and cell.get("execution_count") is not None
    ]
    if not started:
        return None
    index = started[-1]
    lines = [line for line in nb.cells[index].get("source", "").splitlines() if line.strip()]
    first = lines[0][:80] if lines else ""
    return (
        f"cell {index} ({first!r}) ran longer than the cell timeout of {timeout:g} s "
        "(limits.cell_timeout_s in the config, or icp run --cell-timeout)"
    )


def execute_notebook(
    name: str,
    *,
    config_path: str,
    quarter: str,
    run_dir: str,
    parameters: dict[str, Any] | None = None,
    html: bool = True,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    raise_on_error: bool = True,
    timeout: float | None = None,
) -> NotebookResult:
    """Execute ``<notebooks_dir>/<name>.ipynb`` with papermill into ``run_dir``.

    The executed copy is written as ``<run_dir>/<name>.ipynb`` and, with
    ``html``, rendered to ``<run_dir>/<name>.html``, also when a cell fails
    (so the error can be read in the report).

    Parameters
    ----------
    name : str
        Notebook name, with or without ``.ipynb``.
    config_path, quarter, run_dir : str
        The standard parameters every notebook takes; ``""`` resolves as the
        notebooks do (sample config, latest complete quarter, ``reports/<quarter>/``)
        and the resolved values are what the notebook receives.
    parameters : dict, optional
        Further parameters (they override the three above).
    html : bool
        Also render the HTML report.
    notebooks_dir : str or Path
        Folder holding the notebook; the kernel runs with it as working directory.
    raise_on_error : bool
        Raise :class:`NotebookError` when a cell fails (after writing both copies);
        otherwise return a result with ``status="failed"``.
    timeout : float, optional
        Seconds a single cell may run (default: no limit).

    Returns
    -------
    NotebookResult
    """
    stem = name.removesuffix(".ipynb")
    source = Path(notebooks_dir) / f"{stem}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"notebook not found: {source}")
    config_file, quarter, folder = _resolve_targets(config_path, quarter, run_dir)
    params = {"config_path": config_file, "quarter": quarter, "run_dir": str(folder)}
    params.update(parameters or {})
    return _execute(
        source,
        folder / f"{stem}.ipynb",
        params,
        html=html,
        raise_on_error=raise_on_error,
        timeout=timeout,
    )


def _execute(
    source: Path,
    output: Path,
    params: dict[str, Any],
    *,
    html: bool,
    raise_on_error: bool,
    timeout: float | None,
) -> NotebookResult:
    """Papermill ``source`` into ``output`` with exactly ``params``; render; time it."""
    import nbformat
    import papermill as pm

    stem = source.stem
    output.parent.mkdir(parents=True, exist_ok=True)
    started_at = _now()
    t0 = time.perf_counter()
    error: str | None = None
    timed_out = False
    try:
        pm.execute_notebook(
            str(source),
            str(output),
            parameters=params,
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=False,
            cwd=str(source.parent.resolve()),
            kernel_manager_class=_kernel_manager_class(),
            execution_timeout=timeout,
        )
    except pm.PapermillExecutionError as exc:
        error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died or timed out: papermill still saved what ran
        if not output.is_file():
            raise
        error = f"{type(exc).__name__}: {exc}"
        timed_out = type(exc).__name__ == "CellTimeoutError"

    nb = nbformat.read(output, as_version=4)
    if timed_out:
        error = _timeout_error(nb, timeout) or error
    error = error or _cell_error(nb)
    kernel_s, execution_s = _timings(nb)
    render_s = None
    html_path = None
    if html:
        t1 = time.perf_counter()
        html_path = render_html(output)
        render_s = round(time.perf_counter() - t1, 3)
    result = NotebookResult(
        name=stem,
        status="failed" if error else "ok",
        notebook_path=output,
        html_path=html_path,
        parameters=params,
        error=error,
        started_at=started_at,
        kernel_start_s=None if kernel_s is None else round(kernel_s, 3),
        execution_s=None if execution_s is None else round(execution_s, 3),
        render_s=render_s,
        duration_s=round(time.perf_counter() - t0, 3),
    )
    if error and raise_on_error:
        raise NotebookError(f"{stem} failed: {error} (see {output})", result)
    return result


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
