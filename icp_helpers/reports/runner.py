"""The render path and the quarter, batch and drift runs, under one name.

The CLI (``icp run``), the tests and the batch reruns all call
:func:`execute_notebook`, so a report looks the same however it was made.
The work lives in one module per concern, all importable from here:

- ``execution``: papermill executes a notebook, nbconvert renders it to HTML
  with no code and every image embedded (:func:`execute_notebook`, :func:`render_html`);
- ``run_plan``: the parameters checked before any kernel starts (:func:`check_run`);
- ``publish``: a run folder written beside its target, checked by
  :func:`verify_run_dir` and moved into place only when complete; the quarter lock;
- ``quarter_run``: one quarter's notebooks and its ``run.json`` (:func:`run_quarter`);
- ``batch``: many quarters, in parallel processes if asked, then the drift
  notebook (:func:`run_batch`, :func:`run_drift`), with ``progress`` on the console;
- ``index_pages``: the quarter's and the batch's ``index.html``.
"""

from __future__ import annotations

from ..data.config import NOTEBOOK_ORDER  # noqa: F401  (callers read runner.NOTEBOOK_ORDER)
from ..data.table_cache import file_sha256
from .batch import BatchResult, DriftResult, published_drift_pairs, run_batch, run_drift
from .execution import (
    KERNEL_NAME,
    LAB_ONLY_TAG,
    NotebookError,
    NotebookResult,
    _kernel_manager_class,  # noqa: F401  (used by the kernel tests)
    execute_notebook,
    external_urls,
    render_html,
)
from .index_pages import (
    _warnings,  # noqa: F401  (used by the index tests)
    write_batch_index,
    write_quarter_index,
)
from .publish import (
    EXPECTED_ARTIFACTS,
    _replace_dir,  # noqa: F401  (used by the publish tests)
    quarter_lock,  # noqa: F401  (imported from here by callers)
    restore_published,  # noqa: F401  (imported from here by the CLI)
    verify_run_dir,
)
from .quarter_run import (
    VOLATILE_RUN_KEYS,
    QuarterResult,
    input_hashes,
    package_versions,
    run_quarter,
)
from .run_plan import (
    DRIFT_NOTEBOOK,
    RunError,
    RunLocked,  # noqa: F401  (imported from here by the CLI)
    RunPlan,
    check_run,
    drift_pairs,
)

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
