"""Progress of ``icp run`` on the console: one Rich bar per quarter, one for drift."""

from __future__ import annotations

from typing import Any

from .run_plan import RunPlan, drift_pairs

__all__ = [
]

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
