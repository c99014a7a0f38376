"""The ``icp`` command line: ``sample``, ``validate``, ``run``.

Each command is a thin wrapper around a package function so that the
notebooks, the tests and the CLI share one code path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .data.config import DEFAULT_CONFIG, NOTEBOOKS_DIR, SAMPLE_DIR, ConfigError

__all__ = ["app"]

app = typer.Typer(
    help="ICP research workbench: CRM export and interviews in, evidence-backed ICP out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="show full tracebacks on errors")] = False,
) -> None:
    _state["debug"] = debug


#: Exit codes: 0 ok, 1 a run failed, 2 bad input, config or parameters, 3 the quarter is locked.
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3


def _fail(exc: Exception, *, code: int = EXIT_BAD_INPUT) -> None:
    """Print a clear one-message error (traceback only with --debug) and exit with ``code``."""
    if _state["debug"]:
        raise exc
    message = str(exc)
    if isinstance(exc, OSError) and exc.filename:
        message = f"{exc.filename}: {exc.strerror or exc}"
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=code)


@app.command()
def sample(
    out: Annotated[
        Path | None, typer.Option(help="folder to write the sample into (b2b default: data/sample)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: 7 for b2b, 11 for b2c)")] = None,
    kind: Annotated[
        str, typer.Option(help="b2b: the olive-oil producer's CRM; b2c: a consumer tea shop with its icp.yml")
    ] = "b2b",
) -> None:
    """Generate a bundled sample export (deterministic for a seed)."""
    if kind not in ("b2b", "b2c"):
        _fail(ValueError(f"--kind must be b2b or b2c, got {kind!r}"))
        return
    if kind == "b2c":
        from .sample.sample_b2c import write_b2c_sample

        if out is None:
            _fail(ValueError("--kind b2c needs --out DIR: the folder for the consumer sample and its icp.yml"))
            return
        written = write_b2c_sample(out, seed=11 if seed is None else seed)
        console.print(f"wrote {len(written)} files to {out}; run it with: icp run --config {out / 'icp.yml'}")
        return
    from .sample.sample import write_sample

    out = SAMPLE_DIR if out is None else out
    written = write_sample(out, seed=7 if seed is None else seed)
    console.print(f"wrote {len(written)} files to {out}")


@app.command()
def validate(
    config: Annotated[Path, typer.Option(help="project config (YAML)")] = DEFAULT_CONFIG,
) -> None:
    """Load and validate every input table; print the reconciled summary per table."""
    from .data.loaders import LoadError, load_project, print_summary
    from .reports.runner import restore_published

    try:
        project = load_project(config, cache=False)  # a fresh check of the files as they are
    except (ConfigError, LoadError, OSError) as exc:
        _fail(exc)
        return
    try:
        for line in restore_published(project.config.reports_path):
            console.print(f"[yellow]recovered:[/] {escape(line)}", highlight=False)
    except OSError:
        pass  # a read-only reports folder holds nothing to restore from here
    print_summary(project, console=console)
    _print_roles(project)


def _print_roles(project) -> None:
    """Each column's role and the reason, before anything runs."""
    from rich.markup import escape
    from rich.table import Table

    from .customers.roles import config_roles, project_roles

    for table, roles in project_roles(project).items():
        grid = Table(title=escape(f"{table}: column roles"), title_justify="left", header_style="bold")
        for name in ("column", "role", "reason"):
            grid.add_column(name)
        for row in roles.itertuples(index=False):
            source = " (config)" if row.source == "config" else ""
            grid.add_row(escape(str(row.column)), f"{row.role}{source}", escape(row.reason))
        console.print(grid)
        unknown = sorted(set(config_roles(project.config, table)) - set(roles["column"]))
        if unknown:
            console.print(
                f"  [yellow]warning:[/] roles set for {escape(', '.join(unknown))}, not a column of "
                f"{table} as mapped; they apply only to a computed feature of that name",
                highlight=False,
            )
    console.print("Only who columns become selectable traits; set a role with "
                  "`roles: {column: role}` under the input in the config.", highlight=False)


@app.command()
def run(
    config: Annotated[Path, typer.Option(help="project config (YAML)")] = DEFAULT_CONFIG,
    quarter: Annotated[
        str | None,
        typer.Option(help="quarter to run, YYYYQn (default: the latest complete quarter in the deals)"),
    ] = None,
    quarters: Annotated[
        str | None,
        typer.Option(help="inclusive range of quarters, e.g. 2025Q1:2026Q3; each runs independently"),
    ] = None,
    workers: Annotated[int, typer.Option(help="quarters run in parallel processes")] = 1,
    drift: Annotated[
        str,
        typer.Option(
            help="after a range: drift between consecutive quarters (pairs), "
            "the first and the last (ends), or none"
        ),
    ] = "pairs",
    reports_dir: Annotated[
        Path | None,
        typer.Option(help="where the run folders go (default: the config's reports folder)"),
    ] = None,
    notebooks_dir: Annotated[Path, typer.Option(help="folder holding the notebooks")] = NOTEBOOKS_DIR,
    allow_incomplete: Annotated[
        bool,
        typer.Option(
            "--allow-incomplete",
            help="run the quarter of the last closed deal although the data does not reach "
            "its final month; the report is marked incomplete",
        ),
    ] = False,
    cell_timeout: Annotated[
        float | None,
        typer.Option(
            help="seconds one notebook cell may run before the step fails naming the cell "
            "(default: limits.cell_timeout_s of the config)",
            min=0.001,
        ),
    ] = None,
) -> None:
    """Execute the notebooks for one quarter or a range and render the HTML reports.

    Each quarter lands in <reports>/<quarter>/ with index.html and run.json, and
    replaces the previous report only when complete; a failed run is kept in
    <reports>/<quarter>.failed/. Exits 0 when every run succeeded, 1 if anything
    failed, 2 on bad input, config or parameters, 3 when another process is
    running the same quarter.
    """
    from .data import config as settings
    from .data.loaders import LoadError
    from .reports.runner import RunError, RunLocked, run_batch

    if quarter and quarters:
        _fail(RunError("give either --quarter or --quarters, not both"))
        return
    try:
        result = run_batch(
            config,
            quarters or quarter,
            workers=workers,
            drift=drift,
            notebooks=settings.NOTEBOOK_ORDER,
            reports_dir=reports_dir,
            notebooks_dir=notebooks_dir,
            console=err_console,
            allow_incomplete=allow_incomplete,
            option="--quarters" if quarters else "--quarter",
            timeout=cell_timeout,
        )
    except RunLocked as exc:
        _fail(exc, code=EXIT_LOCKED)
        return
    except (RunError, ConfigError, LoadError, OSError) as exc:
        _fail(exc)
        return
    console.print(_summary_table(result))
    console.print(f"index: {result.index_path}", soft_wrap=True)
    for item in result.quarters:
        if item.ok:
            console.print(f"{item.quarter}: {item.run_dir / 'index.html'}", soft_wrap=True)
    if not result.ok:
        for line in result.failures():
            err_console.print(f"[bold red]failed:[/] {escape(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1)


def _summary_table(result):
    """One row per quarter and drift comparison: status, notebooks, time, folder."""
    from rich.table import Table

    table = Table(title="icp run")
    for column in ("run", "status", "notebooks", "seconds", "folder"):
        table.add_column(column)
    for item in result.quarters:
        ok = sum(nb.ok for nb in item.notebooks)
        total = len(item.notebooks) + len(item.skipped)
        style = "green" if item.ok else "red"
        table.add_row(
            item.quarter,
            f"[{style}]{item.status}[/]",
            f"{ok}/{total}" + (f" ({len(item.not_applicable)} not applicable)" if item.not_applicable else ""),
            f"{item.duration_s:.1f}",
            str(item.run_dir),
        )
    for item in result.drift:
        style = "green" if item.ok else "red"
        table.add_row(
            f"drift {item.from_quarter}->{item.to_quarter}",
            f"[{style}]{item.status}[/]",
            "",
            "",
            str(item.out_dir),
        )
    return table
