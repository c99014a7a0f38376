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

import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..data.config import NOTEBOOK_ORDER, NOTEBOOKS_DIR, REPORTS_DIR
from ..data.table_cache import file_sha256

__all__ = [
    "KERNEL_NAME",
    "LAB_ONLY_TAG",
    "NotebookError",
    "NotebookResult",
    "execute_notebook",
    "external_urls",
    "render_html",
    "DRIFT_NOTEBOOK",
    "EXPECTED_ARTIFACTS",
    "VOLATILE_RUN_KEYS",
    "RunError",
    "RunPlan",
    "QuarterResult",
    "DriftResult",
    "BatchResult",
    "check_run",
    "drift_pairs",
    "published_drift_pairs",
    "file_sha256",
    "input_hashes",
    "package_versions",
    "run_quarter",
    "run_drift",
    "run_batch",
    "verify_run_dir",
    "write_quarter_index",
    "write_batch_index",
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


# --------------------------------------------------------------------------
# A quarter's run folder, batches of quarters, drift and the HTML indexes
# --------------------------------------------------------------------------

#: The notebook that compares two quarters' run folders.
DRIFT_NOTEBOOK = "06_quarter_drift"

#: What each notebook must leave in the run folder before a quarter counts as
#: complete (``docs/architecture.md``); the executed ``.ipynb`` and ``.html``
#: are checked for every notebook besides these.
EXPECTED_ARTIFACTS: dict[str, tuple[str, ...]] = {
    "01_best_customers": (
        "features.parquet",
        "best_customers.parquet",
        "shortlist.parquet",
        "groups.parquet",
        "step1.json",
    ),
    "02_interview_coding": ("step2.json",),
    "03_select_traits": ("evidence.parquet", "selection.json", "held_out_tiers.parquet"),
    "04_icp_template": ("icp_card.html", "personas.json", "scored_accounts.csv"),
    "05_lead_scoring": ("step5.json",),
}

#: Files a quarter's index links to when they exist, with what they are.
EXPORTS = (
    ("icp_card.html", "ICP card"),
    ("icp_card.md", "ICP card (Markdown)"),
    ("card.png", "ICP card (image)"),
    ("scored_accounts.xlsx", "Scored accounts (Excel)"),
    ("scored_accounts.csv", "Scored accounts (CSV)"),
    ("scored_prospects.xlsx", "Scored prospects (Excel)"),
    ("scored_prospects.csv", "Scored prospects (CSV)"),
    ("scored_leads.xlsx", "Scored leads (Excel)"),
    ("scored_leads.csv", "Scored leads (CSV)"),
    ("commonalities.xlsx", "Best customers vs the rest (Excel)"),
    ("run.json", "Run provenance (JSON)"),
)

#: Packages whose versions ``run.json`` records.
RECORDED_PACKAGES = (
    "icp-helpers",
    "pandas",
    "numpy",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "ibis-framework",
    "duckdb",
    "pyarrow",
    "pandera",
    "pydantic",
    "kmodes",
    "openpyxl",
    "jinja2",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jupyter_client",
)

#: ``run.json`` keys (top level and per notebook) that change from run to run
#: with the same inputs: clocks and durations.
VOLATILE_RUN_KEYS = frozenset(
    {
        "started_at",
        "finished_at",
        "duration_s",
        "kernel_start_s",
        "execution_s",
        "render_s",
    }
)

_QUARTER_DIR_RE = re.compile(r"^\d{4}Q[1-4]$")
_DRIFT_CHOICES = ("pairs", "ends", "none")



class RunError(ValueError):
    """Run parameters that cannot work; raised before any kernel starts."""


class RunLocked(RunError):
    """Another process is running the same quarter into the same reports folder."""


@dataclass
class RunPlan:
    """Checked parameters of ``icp run``: what will run, where."""

    config_path: Path
    quarters: list[str]
    notebooks: tuple[str, ...]
    notebooks_dir: Path
    reports_dir: Path
    workers: int = 1
    drift: str = "pairs"
    incomplete: list[str] = field(default_factory=list)


@dataclass
class QuarterResult:
    """The outcome of one quarter: where its folder ended up and how each notebook went."""

    quarter: str
    status: str
    run_dir: Path
    notebooks: list[NotebookResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0
    not_applicable: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe_failure(self) -> str:
        """One line naming the quarter, the failing notebook and its error."""
        failed = [nb for nb in self.notebooks if not nb.ok]
        where = f"{failed[0].name}: {failed[0].error}" if failed else (self.error or "failed")
        return f"{self.quarter}: {where} (output kept in {self.run_dir})"


@dataclass
class DriftResult:
    """The outcome of one drift comparison between two quarters."""

    from_quarter: str
    to_quarter: str
    status: str
    out_dir: Path
    html_path: Path | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class BatchResult:
    """Every quarter and drift comparison of one ``icp run``, and the batch index."""

    quarters: list[QuarterResult]
    drift: list[DriftResult]
    index_path: Path

    @property
    def ok(self) -> bool:
        return all(q.ok for q in self.quarters) and all(d.ok for d in self.drift)

    def failures(self) -> list[str]:
        """One line per failed quarter or drift comparison."""
        lines = [q.describe_failure() for q in self.quarters if not q.ok]
        lines += [
            f"drift {d.from_quarter}->{d.to_quarter}: {d.error} (output kept in {d.out_dir})"
            for d in self.drift
            if not d.ok
        ]
        return lines


# ------------------------------------------------------------------ checks


def check_run(
    config_path: str | Path | None,
    *,
    quarters: list[str] | tuple[str, ...] | str | None = None,
    notebooks: tuple[str, ...] | list[str] = NOTEBOOK_ORDER,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    reports_dir: str | Path | None = None,
    workers: int = 1,
    drift: str = "pairs",
    allow_incomplete: bool = False,
    option: str = "--quarter",
) -> RunPlan:
    """Check every run parameter before any kernel starts.

    Parameters
    ----------
    config_path : str or Path, optional
        The project config; ``None`` means the sample's ``icp.yml``.
    quarters : str or list of str, optional
        Quarters (``2026Q3``) or inclusive ranges (``2025Q1:2026Q3``);
        ``None`` means the latest complete quarter in the deals.
    notebooks, notebooks_dir
        The notebooks of one quarter's run and their folder.
    reports_dir : str or Path, optional
        Where run folders go; defaults to the config's reports folder.
    workers : int
        Quarters run in parallel.
    drift : {"pairs", "ends", "none"}
        Drift between consecutive quarters, between the first and the last, or none.
    allow_incomplete : bool
        Accept the quarter of the last closed deal when the data does not reach
        its final month (the run is marked incomplete).
    option : str
        The command-line option the quarters came from, named in messages.

    Raises
    ------
    RunError
        One message listing every problem found.
    """
    from ..data.config import ConfigError, load_config, resolve_config_path

    problems: list[str] = []
    config_file = resolve_config_path(config_path)
    config = None
    if not config_file.is_file():
        problems.append(f"--config: config file not found: {config_file}")
    else:
        try:
            config = load_config(config_file)
        except ConfigError as exc:
            problems.append(f"--config: {exc}")

    from ..data.quarter_checks import check_quarters

    specs = [quarters] if isinstance(quarters, str) else list(quarters or [])
    checked = check_quarters(config, specs, option=option, allow_incomplete=allow_incomplete)
    problems += checked.problems
    resolved = checked.quarters

    folder = Path(notebooks_dir).expanduser().resolve()
    if not folder.is_dir():
        problems.append(f"--notebooks-dir: folder not found: {folder}")
    else:
        wanted = list(notebooks)
        if len(resolved) > 1 and drift != "none":
            wanted.append(DRIFT_NOTEBOOK)
        for name in wanted:
            if not (folder / f"{name}.ipynb").is_file():
                problems.append(f"notebook not found: {folder / f'{name}.ipynb'}")
    if drift not in _DRIFT_CHOICES:
        problems.append(f"--drift: {drift!r} is not one of {', '.join(_DRIFT_CHOICES)}")
    if workers < 1:
        problems.append(f"--workers: must be at least 1 (got {workers})")

    if reports_dir is not None:
        reports = Path(reports_dir).expanduser().resolve()
    elif config is not None:
        reports = config.reports_path
    else:
        reports = REPORTS_DIR
    if not reports.is_dir() and not reports.parent.is_dir():
        where = "--reports-dir" if reports_dir is not None else f"reports_dir in {config_file}"
        problems.append(f"{where}: parent folder not found: {reports.parent}")
    if problems:
        raise RunError("\n".join(problems))
    return RunPlan(
        config_path=config_file,
        quarters=resolved,
        notebooks=tuple(notebooks),
        notebooks_dir=folder,
        reports_dir=reports,
        workers=int(workers),
        drift=drift,
        incomplete=checked.incomplete,
    )


# -------------------------------------------------------------- provenance


def input_hashes(config) -> dict[str, dict[str, str]]:
    """SHA-256 of every input a run reads: the config, each table's files, transcripts, templates.

    Returns ``{group: {path relative to the config's folder: digest}}``;
    equal hashes mean a rerun read the same bytes.
    """
    base = config.base_dir

    def rel(path: Path) -> str:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_posix()

    def files(path: Path) -> list[Path]:
        if path.is_dir():
            return sorted(p for p in path.rglob("*") if p.is_file())
        return [path] if path.is_file() else []

    out: dict[str, dict[str, str]] = {}
    if config.source:
        out["config"] = {rel(Path(config.source)): file_sha256(config.source)}
    for table in sorted(config.inputs):
        digests = {rel(f): file_sha256(f) for p in config.input_paths(table) for f in files(p)}
        if digests:
            out[table] = digests
    transcripts = config.transcripts_path()
    if transcripts is not None:
        out["transcripts"] = {rel(f): file_sha256(f) for f in files(transcripts)}
    templates = {}
    for kind in ("card_html", "card_markdown"):
        template = config.template_path(kind)
        if template is not None and template.is_file():
            templates[rel(template)] = file_sha256(template)
    if templates:
        out["templates"] = templates
    return out


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` for a package that is not installed)."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _environment() -> dict[str, Any]:
    import platform

    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "kernel": KERNEL_NAME,
        "packages": package_versions(),
    }


# ------------------------------------------------------------ verification


def verify_run_dir(
    run_dir: str | Path,
    results: list[NotebookResult],
    *,
    expected: dict[str, tuple[str, ...]] | None = None,
    html: bool = True,
) -> list[str]:
    """Problems that make a run folder incomplete; empty when it is complete.

    Checks that every notebook finished ok and left its executed copy, its HTML
    and its expected artifacts (non-empty), and that every Parquet and JSON file
    in the folder reads back, so no truncated output is reported as success.
    """
    import json

    import pyarrow.parquet as pq

    folder = Path(run_dir)
    expected = EXPECTED_ARTIFACTS if expected is None else expected
    problems = [f"{r.name} did not finish: {r.error}" for r in results if not r.ok]
    for result in results:
        needed = [f"{result.name}.ipynb", *([f"{result.name}.html"] if html else [])]
        needed += list(expected.get(result.name, ()))
        for name in needed:
            path = folder / name
            if not path.is_file() or path.stat().st_size == 0:
                problems.append(f"{result.name} did not write {name}")
    for path in sorted(folder.rglob("*.parquet")):
        try:
            pq.read_metadata(path)
        except Exception as exc:
            problems.append(f"{path.relative_to(folder)} is not readable Parquet: {exc}")
    for path in sorted(folder.rglob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{path.relative_to(folder)} is not readable JSON: {exc}")
    return problems


# ---------------------------------------------------------- folder moves


def _claim(partial: Path) -> None:
    """Start a fresh temporary folder, refusing one that a live process is writing."""
    marker = partial / ".pid"
    if partial.exists():
        try:
            pid = int(marker.read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid != os.getpid() and _alive(pid):
            raise RunError(f"{partial} is being written by process {pid}; wait for it to finish")
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    marker.write_text(str(os.getpid()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def quarter_lock(reports: Path, quarter: str):
    """The lock one run of ``quarter`` holds while it writes and publishes (``.<quarter>.lock``)."""
    from filelock import FileLock

    return FileLock(str(Path(reports) / f".{quarter}.lock"))


def restore_published(reports_dir: str | Path, quarters: list[str] | None = None) -> list[str]:
    """Finish publishes that a killed process left halfway.

    Publishing moves ``<quarter>`` aside to ``.<quarter>.previous`` and the new
    folder into place. Killed between the two moves, only the ``.previous``
    copy is left: it is moved back (the last good report). Killed after both,
    a stale ``.previous`` is removed. Each quarter is touched only under its
    lock, never while a live run of it publishes.

    Returns
    -------
    list of str
        What was done, one line per quarter.
    """
    reports = Path(reports_dir)
    done = []
    if not reports.is_dir():
        return done
    for previous in sorted(reports.glob(".*.previous")):
        quarter = previous.name[1:].removesuffix(".previous")
        if quarters is not None and quarter not in quarters:
            continue
        lock = quarter_lock(reports, quarter)
        try:
            lock.acquire(timeout=0)
        except Exception:  # filelock.Timeout: a run of this quarter is publishing now
            continue
        try:
            target = reports / quarter
            if not previous.exists():
                continue
            if target.exists():
                shutil.rmtree(previous, ignore_errors=True)
                done.append(f"{quarter}: removed a stale .{quarter}.previous")
            else:
                os.replace(previous, target)
                done.append(f"{quarter}: restored the last published report (a publish was interrupted)")
        finally:
            lock.release()
    return done


def _replace_dir(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, keeping the old ``target`` until the move succeeded."""
    (source / ".pid").unlink(missing_ok=True)
    previous = target.with_name(f".{target.name}.previous")
    if previous.exists():
        shutil.rmtree(previous)
    if target.exists():
        os.replace(target, previous)
    try:
        os.replace(source, target)
    except OSError:
        if previous.exists() and not target.exists():
            os.replace(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)


# ---------------------------------------------------------------- quarter


def run_quarter(
    config_path: str | Path,
    quarter: str,
    *,
    notebooks: tuple[str, ...] | list[str] = NOTEBOOK_ORDER,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    reports_dir: str | Path | None = None,
    expected: dict[str, tuple[str, ...]] | None = None,
    html: bool = True,
    timeout: float | None = None,
    on_event: Callable[..., None] | None = None,
    incomplete: bool = False,
) -> QuarterResult:
    """Run one quarter's notebooks into a temporary folder and move it into place.

    The notebooks write into ``<reports>/.<quarter>.partial/``. Only when every
    notebook finished and :func:`verify_run_dir` finds nothing missing does the
    folder replace ``<reports>/<quarter>/``; otherwise it becomes
    ``<reports>/<quarter>.failed/`` and the previous good report stays as it was.
    Either way the folder holds ``run.json`` and ``index.html``.

    Parameters
    ----------
    config_path : str or Path
        The project config.
    quarter : str
        ``YYYYQn``.
    notebooks, notebooks_dir
        Notebook names in run order and their folder; a failing notebook stops
        the quarter (later ones would read its missing artifacts).
    reports_dir : str or Path, optional
        Defaults to the config's reports folder.
    expected : dict, optional
        Artifacts per notebook; defaults to :data:`EXPECTED_ARTIFACTS`.
    html : bool
        Render each executed notebook to HTML.
    timeout : float, optional
        Seconds one cell may run; default ``limits.cell_timeout_s`` of the config.
    on_event : callable, optional
        Called as ``on_event(event, quarter, notebook, status)`` with ``event``
        ``"start"`` or ``"end"``, for progress displays.
    incomplete : bool
        The data does not cover the quarter to its end (``--allow-incomplete``):
        recorded in ``run.json`` and shown on the indexes.
    """
    from ..data.config import load_config
    from ..data.quarters import Quarter

    quarter = str(Quarter.parse(quarter))
    config = load_config(config_path)
    if timeout is None:
        timeout = config.limits.cell_timeout_s
    reports = Path(reports_dir).resolve() if reports_dir else config.reports_path
    target = reports / quarter
    partial = reports / f".{quarter}.partial"
    failed_dir = reports / f"{quarter}.failed"
    try:
        reports.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"{reports}: the reports folder cannot be created ({exc.strerror})") from None
    if not os.access(reports, os.W_OK | os.X_OK):
        raise RunError(
            f"{reports}: the reports folder is not writable; choose another with reports_dir "
            "in the config or --reports-dir"
        )
    lock = quarter_lock(reports, quarter)
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunLocked(
            f"{quarter} is being run by another process into {reports} (lock {lock.lock_file}); "
            "wait for it to finish, then run again"
        ) from None
    try:
        return _run_quarter_locked(
            config,
            quarter,
            notebooks=notebooks,
            notebooks_dir=notebooks_dir,
            reports=reports,
            target=target,
            partial=partial,
            failed_dir=failed_dir,
            expected=expected,
            html=html,
            timeout=timeout,
            incomplete=incomplete,
            on_event=on_event,
        )
    finally:
        lock.release()


def _run_quarter_locked(
    config,
    quarter: str,
    *,
    notebooks,
    notebooks_dir,
    reports: Path,
    target: Path,
    partial: Path,
    failed_dir: Path,
    expected,
    html: bool,
    timeout: float | None,
    incomplete: bool,
    on_event,
) -> QuarterResult:
    """:func:`run_quarter` once the quarter's lock is held."""
    recovered = restore_published(reports, [quarter])
    _claim(partial)

    started_at = _now()
    t0 = time.perf_counter()
    not_applicable = {
        name: missing for name in notebooks if (missing := config.describe_missing(name))
    }
    requested = list(notebooks)
    notebooks = tuple(n for n in notebooks if n not in not_applicable)
    results: list[NotebookResult] = []
    skipped: list[str] = []
    error: str | None = None
    if not notebooks:
        error = "no notebook applies to this config's inputs: " + "; ".join(
            f"{n} {why}" for n, why in not_applicable.items()
        )
    for position, name in enumerate(notebooks):
        if on_event:
            on_event("start", quarter, name, None)
        try:
            result = execute_notebook(
                name,
                config_path=str(config.source),
                quarter=quarter,
                run_dir=str(partial),
                html=html,
                notebooks_dir=notebooks_dir,
                raise_on_error=False,
                timeout=timeout,
            )
        except Exception as exc:  # the kernel could not start, or no notebook was saved
            error = f"{name}: {type(exc).__name__}: {exc}"
            skipped = list(notebooks[position + 1 :])
            if on_event:
                on_event("end", quarter, name, "failed")
            break
        results.append(result)
        if on_event:
            on_event("end", quarter, name, result.status)
        if not result.ok:
            skipped = list(notebooks[position + 1 :])
            break

    problems = verify_run_dir(partial, results, expected=expected, html=html)
    if error:
        problems.insert(0, error)
    status = "ok" if not problems and not skipped and len(results) == len(notebooks) else "failed"
    final = target if status == "ok" else failed_dir
    record = {
        "quarter": quarter,
        "status": status,
        "incomplete": bool(incomplete),
        "problems": problems,
        "parameters": {
            "config_path": str(config.source),
            "quarter": quarter,
            "run_dir": str(target),
            "notebooks_dir": str(Path(notebooks_dir).resolve()),
            "notebooks": requested,
        },
        "output_dir": str(final),
        "inputs": input_hashes(config),
        "environment": _environment(),
        "notebooks": [_notebook_record(r) for r in results],
        "skipped": skipped,
        "not_applicable": not_applicable,
        "recovered": recovered,
        "started_at": started_at,
        "finished_at": _now(),
        "duration_s": round(time.perf_counter() - t0, 3),
    }
    from ..data.artifacts import write_json

    write_json(record, partial, "run.json")
    write_quarter_index(partial, record)

    if status == "ok":
        _replace_dir(partial, target)
        if failed_dir.exists():
            shutil.rmtree(failed_dir)  # a stale failure of an older attempt
    else:
        _replace_dir(partial, failed_dir)
    return QuarterResult(
        quarter=quarter,
        status=status,
        run_dir=final,
        notebooks=[_relocated(r, partial, final) for r in results],
        skipped=skipped,
        error="; ".join(problems) or None,
        duration_s=record["duration_s"],
        not_applicable=not_applicable,
    )


def _notebook_record(result: NotebookResult) -> dict[str, Any]:
    """A notebook's entry in ``run.json``: file names, not temporary paths."""
    data = result.to_dict()
    data["notebook"] = Path(result.notebook_path).name
    data["html"] = Path(result.html_path).name if result.html_path else None
    for key in ("notebook_path", "html_path", "parameters"):
        data.pop(key, None)
    return data


def _relocated(result: NotebookResult, old: Path, new: Path) -> NotebookResult:
    """The result with paths pointing into the folder's final place."""

    def move(path: Path | None) -> Path | None:
        if path is None:
            return None
        try:
            return new / Path(path).relative_to(old)
        except ValueError:
            return Path(path)

    result.notebook_path = move(result.notebook_path)
    result.html_path = move(result.html_path)
    return result


# ------------------------------------------------------------------ drift


def drift_pairs(quarters: list[str], *, mode: str = "pairs") -> list[tuple[str, str]]:
    """Which quarters to compare: consecutive ``pairs``, the two ``ends``, or ``none``."""
    ordered = sorted(quarters)
    if mode == "none" or len(ordered) < 2:
        return []
    if mode == "ends":
        return [(ordered[0], ordered[-1])]
    if mode == "pairs":
        return list(zip(ordered[:-1], ordered[1:], strict=True))
    raise ValueError(f"drift mode {mode!r} is not one of {', '.join(_DRIFT_CHOICES)}")


_DRIFT_DIR_RE = re.compile(r"^(\d{4}Q[1-4])_(\d{4}Q[1-4])$")


def published_drift_pairs(reports_dir: str | Path) -> list[tuple[str, str]]:
    """The quarter pairs of the drift reports published under ``<reports>/drift/``."""
    root = Path(reports_dir) / "drift"
    pairs = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        match = _DRIFT_DIR_RE.match(folder.name)
        if folder.is_dir() and match:
            pairs.append((match.group(1), match.group(2)))
    return pairs


def run_drift(
    config_path: str | Path,
    from_quarter: str,
    to_quarter: str,
    *,
    reports_dir: str | Path | None = None,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    notebook: str = DRIFT_NOTEBOOK,
    html: bool = True,
    timeout: float | None = None,
) -> DriftResult:
    """Run the drift notebook for two quarters into ``<reports>/drift/<from>_<to>/``.

    Like :func:`run_quarter`, output is written beside the target and moved into
    place when the notebook finished, or kept as ``<from>_<to>.failed/``.
    """
    from ..data.config import load_config

    config = load_config(config_path)
    if timeout is None:
        timeout = config.limits.cell_timeout_s
    reports = Path(reports_dir).resolve() if reports_dir else config.reports_path
    name = f"{from_quarter}_{to_quarter}"
    target = reports / "drift" / name
    partial = target.with_name(f".{name}.partial")
    failed_dir = target.with_name(f"{name}.failed")
    partial.parent.mkdir(parents=True, exist_ok=True)
    _claim(partial)
    params = {
        "config_path": str(config.source),
        "from_quarter": from_quarter,
        "to_quarter": to_quarter,
        "reports_dir": str(reports),
        "out_dir": str(partial),
    }
    source = Path(notebooks_dir) / f"{notebook}.ipynb"
    try:
        result = _execute(
            source,
            partial / f"{notebook}.ipynb",
            params,
            html=html,
            raise_on_error=False,
            timeout=timeout,
        )
        problems = verify_run_dir(partial, [result], expected={}, html=html)
    except Exception as exc:
        result, problems = None, [f"{type(exc).__name__}: {exc}"]
    final = failed_dir if problems else target
    _replace_dir(partial, final)
    if not problems and failed_dir.exists():
        shutil.rmtree(failed_dir)
    html_path = final / f"{notebook}.html" if result is not None and html else None
    return DriftResult(
        from_quarter=from_quarter,
        to_quarter=to_quarter,
        status="failed" if problems else "ok",
        out_dir=final,
        html_path=html_path if html_path is not None and html_path.is_file() else None,
        error="; ".join(problems) or None,
    )


# ------------------------------------------------------------------ batch


def _quarter_job(kwargs: dict[str, Any], queue) -> QuarterResult:
    """Worker-process entry: run one quarter, reporting progress through ``queue``."""

    def on_event(*event) -> None:
        queue.put(event)

    return run_quarter(**kwargs, on_event=on_event)


def run_batch(
    config_path: str | Path | None,
    quarters: list[str] | tuple[str, ...] | str | None = None,
    *,
    workers: int = 1,
    notebooks: tuple[str, ...] | list[str] = NOTEBOOK_ORDER,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    reports_dir: str | Path | None = None,
    expected: dict[str, tuple[str, ...]] | None = None,
    drift: str = "pairs",
    html: bool = True,
    timeout: float | None = None,
    console=None,
    allow_incomplete: bool = False,
    option: str = "--quarter",
) -> BatchResult:
    """Run every quarter independently, then drift between them, then the batch index.

    Parameters are checked first (:func:`check_run` raises :class:`RunError`
    before any kernel starts). Quarters run one after another, or with
    ``workers > 1`` in that many processes; a failing quarter does not stop the
    others. Drift runs for the quarter pairs chosen by ``drift``
    (:func:`drift_pairs`) whose quarters both succeeded, and the drift reports
    already published that involve a quarter just rerun are run again, so they
    never compare against a replaced report.

    Parameters
    ----------
    config_path : str or Path, optional
        The project config (``None``: the sample's ``icp.yml``).
    quarters : str or list of str, optional
        Quarters or ranges (``2025Q1:2026Q3``); ``None``: the latest complete quarter.
    workers : int
        Processes running quarters in parallel.
    notebooks, notebooks_dir, reports_dir, expected, html, timeout
        As for :func:`run_quarter`.
    drift : {"pairs", "ends", "none"}
        Which quarters to compare when more than one ran.
    console : rich.console.Console, optional
        Where to show progress; ``None`` shows none.
    allow_incomplete, option
        As for :func:`check_run`.

    Returns
    -------
    BatchResult
    """
    plan = check_run(
        config_path,
        quarters=quarters,
        notebooks=notebooks,
        notebooks_dir=notebooks_dir,
        reports_dir=reports_dir,
        workers=workers,
        drift=drift,
        allow_incomplete=allow_incomplete,
        option=option,
    )
    jobs = {
        q: dict(
            config_path=str(plan.config_path),
            quarter=q,
            notebooks=plan.notebooks,
            notebooks_dir=str(plan.notebooks_dir),
            reports_dir=str(plan.reports_dir),
            expected=expected,
            html=html,
            timeout=timeout,
            incomplete=q in plan.incomplete,
        )
        for q in plan.quarters
    }
    with _Progress(console, plan) as progress:
        if plan.workers == 1 or len(jobs) == 1:
            results = [run_quarter(**kw, on_event=progress.event) for kw in jobs.values()]
        else:
            results = _run_parallel(jobs, plan.workers, progress)
        ok = [r.quarter for r in results if r.ok]
        drifts = []
        for a, b in drift_pairs(plan.quarters, mode=plan.drift):
            if a in ok and b in ok:
                progress.event("start", "drift", f"{a}->{b}", None)
                drifts.append(
                    run_drift(
                        plan.config_path,
                        a,
                        b,
                        reports_dir=plan.reports_dir,
                        notebooks_dir=plan.notebooks_dir,
                        html=html,
                        timeout=timeout,
                    )
                )
                progress.event("end", "drift", f"{a}->{b}", drifts[-1].status)
        # a rerun quarter makes the published drift reports that involve it stale
        done = {(d.from_quarter, d.to_quarter) for d in drifts}
        for a, b in published_drift_pairs(plan.reports_dir):
            fresh = a in ok or b in ok
            both = (plan.reports_dir / a).is_dir() and (plan.reports_dir / b).is_dir()
            drift_notebook = plan.notebooks_dir / f"{DRIFT_NOTEBOOK}.ipynb"
            if (a, b) in done or not fresh or not both or not drift_notebook.is_file():
                continue
            drifts.append(
                run_drift(
                    plan.config_path,
                    a,
                    b,
                    reports_dir=plan.reports_dir,
                    notebooks_dir=plan.notebooks_dir,
                    html=html,
                    timeout=timeout,
                )
            )
    index = write_batch_index(plan.reports_dir)
    return BatchResult(quarters=results, drift=drifts, index_path=index)


def _run_parallel(jobs: dict[str, dict], workers: int, progress: _Progress) -> list[QuarterResult]:
    """Quarters in worker processes (spawned: no forked kernels or locks)."""
    import multiprocessing
    import queue as queue_module
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    results: dict[str, QuarterResult] = {}
    with context.Manager() as manager:
        events = manager.Queue()
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            pending = {pool.submit(_quarter_job, kw, events): q for q, kw in jobs.items()}
            while pending:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                while True:
                    try:
                        progress.event(*events.get_nowait())
                    except queue_module.Empty:
                        break
                for future in done:
                    quarter = pending.pop(future)
                    try:
                        results[quarter] = future.result()
                    except Exception as exc:  # the worker itself broke
                        results[quarter] = QuarterResult(
                            quarter=quarter,
                            status="failed",
                            run_dir=Path(jobs[quarter]["reports_dir"]) / f"{quarter}.failed",
                            error=f"{type(exc).__name__}: {exc}",
                        )
    return [results[q] for q in jobs]


class _Progress:
    """A Rich progress display with one bar per quarter (and one for drift)."""

    def __init__(self, console, plan: RunPlan) -> None:
        self.console = console
        self.plan = plan
        self.tasks: dict[str, Any] = {}
        self.progress = None

    def __enter__(self) -> _Progress:
        if self.console is None:
            return self
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.fields[quarter]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.progress.start()
        for q in self.plan.quarters:
            self.tasks[q] = self.progress.add_task(
                "waiting", total=len(self.plan.notebooks), quarter=q
            )
        n_drift = len(drift_pairs(self.plan.quarters, mode=self.plan.drift))
        if n_drift:
            self.tasks["drift"] = self.progress.add_task("waiting", total=n_drift, quarter="drift")
        return self

    def event(self, kind: str, quarter: str, notebook: str, status: str | None) -> None:
        if self.progress is None or quarter not in self.tasks:
            return
        task = self.tasks[quarter]
        if kind == "start":
            self.progress.update(task, description=f"running {notebook}")
        elif status == "ok":
            self.progress.update(task, advance=1, description=f"{notebook} ok")
        else:
            self.progress.update(task, description=f"[red]{notebook} failed")

    def __exit__(self, *exc_info) -> None:
        if self.progress is not None:
            self.progress.stop()


# ---------------------------------------------------------------- indexes


def _jinja_env():
    import jinja2

    from ..data.config import TEMPLATES_DIR

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _read_json_or_none(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _first_number(data: Any, *paths: tuple[str, ...]) -> int | None:
    for keys in paths:
        value = data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            return int(value)
    return None


def _selection_traits(selection: dict[str, Any]) -> list:
    """The ICP's traits in ``selection.json``: ``selected`` (or ``traits``) then ``why_traits``."""
    return list(selection.get("selected") or selection.get("traits") or []) + list(
        selection.get("why_traits") or []
    )


def _headline(run_dir: Path) -> dict[str, Any]:
    """Headline results from the run folder's artifacts, each ``None`` when not there."""
    import pandas as pd

    out: dict[str, Any] = {"best": None, "accounts": None, "traits": None, "tiers": None}
    step1 = _read_json_or_none(run_dir / "step1.json")
    if isinstance(step1, dict):
        out["best"] = _first_number(
            step1,
            ("counts", "best"),
            ("counts", "best_customers"),
            ("counts", "n_best"),
            ("n_best",),
            ("best_customers",),
        )
        out["accounts"] = _first_number(
            step1, ("counts", "accounts"), ("counts", "n_accounts"), ("n_accounts",), ("accounts",)
        )
        columns = step1.get("feature_columns")
        if isinstance(columns, list):
            from ..data.wording import infer_kind, words

            out["noun"] = words(infer_kind(columns))["accounts"]  # customers, for consumers
    selection = _read_json_or_none(run_dir / "selection.json")
    if isinstance(selection, dict):
        selected = _selection_traits(selection)
        out["traits"] = [
            {
                "id": str(t.get("id", t.get("trait", ""))),
                "label": str(t.get("label") or t.get("id") or t.get("trait") or ""),
                "points": t.get("points"),
            }
            if isinstance(t, dict)
            else {"id": str(t), "label": str(t), "points": None}
            for t in selected
        ]
    scored = run_dir / "scored_accounts.csv"
    if scored.is_file():
        try:
            tiers = pd.read_csv(scored, usecols=["tier"])["tier"]
            out["tiers"] = {str(k): int(v) for k, v in tiers.value_counts().sort_index().items()}
        except (ValueError, OSError):
            out["tiers"] = None
    return out


def _warnings(run_dir: Path, record: dict[str, Any]) -> list[str]:
    """What a reader should know: problems, quarantined rows, warnings the steps recorded.

    Quarantine counts and load warnings come from ``quarantine/summary.csv``
    when the loader wrote one, else from counting each quarantine file's rows.
    """
    import csv

    found = list(record.get("problems", []))
    quarantine = run_dir / "quarantine"
    summary = quarantine / "summary.csv"
    if summary.is_file():
        with open(summary, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                table = row.get("table", "?")
                try:
                    set_aside = int(float(row.get("rows_quarantined") or 0))
                except ValueError:
                    set_aside = 0
                if set_aside:
                    reasons = f" ({row['reasons']})" if row.get("reasons") else ""
                    found.append(
                        f"{table}: {set_aside} of {row.get('rows_read', '?')} rows set aside"
                        f"{reasons}, see quarantine/{table}.csv"
                    )
                for warning in (row.get("warnings") or "").split(" | "):
                    warning = warning.strip()
                    if warning:
                        known = warning.startswith(f"{table}.")
                        found.append(warning if known else f"{table}: {warning}")
    elif quarantine.is_dir():
        for path in sorted(quarantine.glob("*.csv")):
            with open(path, encoding="utf-8", newline="") as handle:
                rows = max(sum(1 for _ in csv.reader(handle)) - 1, 0)
            if rows:
                found.append(f"{path.stem}: {rows} rows set aside, see quarantine/{path.name}")
    for path in sorted(run_dir.glob("*.json")):
        if path.name == "run.json":
            continue
        data = _read_json_or_none(path)
        if isinstance(data, dict) and isinstance(data.get("warnings"), list):
            found += [f"{path.stem}: {w}" for w in data["warnings"]]
    return found


def write_quarter_index(run_dir: str | Path, record: dict[str, Any]) -> Path:
    """Write ``<run_dir>/index.html``: what ran, links to reports and exports, headline results.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (links are relative, so the folder can move).
    record : dict
        The ``run.json`` content.
    """
    folder = Path(run_dir)
    notebooks = [
        {
            "name": nb["name"],
            "status": nb["status"],
            "error": nb.get("error"),
            "html": nb.get("html") if nb.get("html") and (folder / nb["html"]).is_file() else None,
            "notebook": nb.get("notebook"),
            "duration_s": nb.get("duration_s"),
        }
        for nb in record.get("notebooks", [])
    ]
    notebooks += [
        {"name": n, "status": "skipped", "error": None, "html": None, "notebook": None, "duration_s": None}
        for n in record.get("skipped", [])
    ]
    notebooks += [
        {"name": n, "status": "not applicable", "error": why, "html": None, "notebook": None,
         "duration_s": None}
        for n, why in record.get("not_applicable", {}).items()
    ]
    order = {name: i for i, name in enumerate(record.get("parameters", {}).get("notebooks", []))}
    notebooks.sort(key=lambda nb: order.get(nb["name"], len(order)))
    exports = [
        {"file": name, "label": label} for name, label in EXPORTS if (folder / name).is_file()
    ]
    html = _jinja_env().get_template("index.html.j2").render(
        page="quarter",
        title=f"ICP report {record['quarter']}" + (" (incomplete quarter)" if record.get("incomplete") else ""),
        record=record,
        notebooks=notebooks,
        exports=exports,
        headline=_headline(folder),
        warnings=_warnings(folder, record),
        quarters=[],
        failed=[],
        drift=[],
    )
    path = folder / "index.html"
    path.write_text(html, encoding="utf-8")
    return path


def write_batch_index(reports_dir: str | Path) -> Path:
    """Write ``<reports>/index.html`` listing every quarter folder and drift report found.

    Built from the folders on disk (``run.json`` of each), so it stays complete
    across separate runs and shows failed attempts kept for inspection.
    """
    reports = Path(reports_dir)
    quarters = []
    for folder in sorted(reports.iterdir()) if reports.is_dir() else []:
        name = folder.name.removesuffix(".failed")
        if not folder.is_dir() or not _QUARTER_DIR_RE.match(name):
            continue
        record = _read_json_or_none(folder / "run.json") or {}
        headline = _headline(folder)
        quarters.append(
            {
                "quarter": name,
                "folder": folder.name,
                "status": record.get("status", "unknown") if not folder.name.endswith(".failed") else "failed",
                "incomplete": bool(record.get("incomplete")),
                "problems": list(record.get("problems") or []),
                "finished_at": record.get("finished_at"),
                "best": headline["best"],
                "n_traits": None if headline["traits"] is None else len(headline["traits"]),
                "index": f"{folder.name}/index.html" if (folder / "index.html").is_file() else None,
            }
        )
    drift = []
    drift_root = reports / "drift"
    for folder in sorted(drift_root.iterdir()) if drift_root.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        pages = sorted(folder.glob("*.html"))
        drift.append(
            {
                "name": folder.name.removesuffix(".failed").replace("_", " → "),
                "status": "failed" if folder.name.endswith(".failed") else "ok",
                "link": f"drift/{folder.name}/{pages[0].name}" if pages else None,
            }
        )
    html = _jinja_env().get_template("index.html.j2").render(
        page="batch",
        title="ICP reports",
        record={},
        notebooks=[],
        exports=[],
        headline={},
        warnings=[],
        quarters=[q for q in quarters if q["status"] == "ok"],
        failed=[q for q in quarters if q["status"] != "ok"],
        drift=drift,
    )
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
