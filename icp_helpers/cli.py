"""The ``icp`` command line: ``sample``, ``validate``, ``run``.

Each command is a thin wrapper around a package function so that the
notebooks, the tests and the CLI share one code path.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from .config import DEFAULT_CONFIG, SAMPLE_DIR, ConfigError

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
    debug: bool = typer.Option(False, "--debug", help="show full tracebacks on errors"),
) -> None:
    _state["debug"] = debug


def _fail(exc: Exception) -> None:
    """Print a clear one-message error (traceback only with --debug) and exit 2."""
    if _state["debug"]:
        raise exc
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
    raise typer.Exit(code=2)


@app.command()
def sample(
    out: Path = typer.Option(SAMPLE_DIR, help="folder to write the sample into"),
    seed: int = typer.Option(7, help="random seed"),
) -> None:
    """Generate the bundled sample CRM export (deterministic for a seed)."""
    from .sample import write_sample

    written = write_sample(out, seed=seed)
    console.print(f"wrote {len(written)} files to {out}")


@app.command()
def validate(
    config: Path = typer.Option(DEFAULT_CONFIG, help="project config (YAML)"),
) -> None:
    """Load and validate every input table; print the reconciled summary per table."""
    from .loaders import LoadError, load_project, print_summary

    try:
        project = load_project(config)
    except (ConfigError, LoadError) as exc:
        _fail(exc)
        return
    print_summary(project, console=console)
