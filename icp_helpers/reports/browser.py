"""Open a rendered HTML page in headless Chromium and report what happened.

The reports and the ICP card are read in a browser, so the tests open them in
one: a page must load with no script errors, no network requests (a report is
self-contained) and no dialog (a dialog means data-derived text was executed
as script). Debian's ``chromium`` is driven through Playwright's sync API; no
browser is downloaded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CHROMIUM_ARGS",
    "PageReport",
    "chromium_path",
    "require_chromium",
    "check_page",
]

#: Flags for a quiet, offline, reproducible headless Chromium.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Top-level elements that show a picture; an <svg> nested in another is one figure.
_FIGURES_JS = "() => document.querySelectorAll('img, svg:not(svg svg)').length"
# How much wider the page is than the window: content off-screen sideways.
_OVERFLOW_JS = (
    "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    " - document.documentElement.clientWidth"
)
# A4 width less Chromium's default 10 mm margins, in CSS pixels (96 per inch).
_A4_CONTENT_PX = round((210 - 20) / 25.4 * 96)
# Elements a printout would cut: wider than the page, or scrolling inside their box.
_CLIPPED_JS = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('table, img, svg, pre, .jp-OutputArea-output')) {
    const box = el.getBoundingClientRect();
    if (box.width && (box.right > width + 1 || el.scrollWidth > el.clientWidth + 1))
      out.push(`${el.tagName.toLowerCase()} ${Math.round(box.right)}px (${el.scrollWidth}/${el.clientWidth})`);
  }
  return out;
}"""
# Page objects of a PDF (not the /Pages tree nodes).
_PDF_PAGE_RE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass
class PageReport:
    """What a page did when it was opened.

    Attributes
    ----------
    url : str
        The ``file://`` address that was opened.
    title : str
        The document title.
    text : str
        The visible text of the body (``innerText``).
    n_images : int
        Pictures on the page: ``<img>`` plus top-level ``<svg>`` elements.
    console_errors : list of str
        Messages logged at level ``error``.
    page_errors : list of str
        Uncaught script exceptions.
    failed_requests : list of str
        Requests that failed, including every non-file request, which is blocked.
    dialogs : list of str
        ``alert``/``confirm``/``prompt`` messages (dismissed); any dialog means
        a script ran that the page's author did not write.
    screenshot : Path or None
        The full-page screenshot, when one was asked for.
    pdf : Path or None
        The page printed to A4 PDF, when one was asked for.
    pdf_pages : int or None
        Pages of that PDF (a one-page card must print on one sheet).
    width : int
        The viewport width the page was opened at (390 is a phone).
    overflow_px : int
        How far the page is wider than the viewport (0: nothing off-screen
        sideways; a wide table scrolling inside its own box does not count).
    print_text : str or None
        The visible text under the print stylesheet, when a PDF was asked for.
    print_clipped : list of str
        Tables, outputs and images wider than an A4 page (or scrolling inside
        their box) under the print stylesheet, when a PDF was asked for: what
        a printout would cut off.
    """

    url: str
    title: str = ""
    text: str = ""
    n_images: int = 0
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    pdf: Path | None = None
    pdf_pages: int | None = None
    width: int = 1200
    overflow_px: int = 0
    print_text: str | None = None
    print_clipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the page logged no error, requested nothing and raised no dialog."""
        return not (self.console_errors or self.page_errors or self.failed_requests or self.dialogs)


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none.

    ``ICP_CHROMIUM`` (a path or a command name) wins; otherwise Debian's
    ``/usr/bin/chromium``, then ``chromium`` on the ``PATH``. None as well
    when Playwright (a test dependency) is not installed, since nothing
    could drive the browser.
    """
    if importlib.util.find_spec("playwright") is None:
        return None
    override = os.environ.get("ICP_CHROMIUM", "").strip()
    candidates = [override] if override else [_DEFAULT_CHROMIUM, "chromium"]
    for candidate in candidates:
        path = Path(candidate)
        if path.is_absolute():
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
            continue
        found = shutil.which(candidate)
        if found:
            return found
    return None


def require_chromium() -> str:
    """For tests: the Chromium path, or skip the test with the reason.

    Under continuous integration (``CI`` set to anything but ``""``, ``0`` or
    ``false``) a missing browser fails the test instead, so browser checks
    cannot silently stop running.
    """
    import pytest  # tests only; the package does not depend on pytest

    path = chromium_path()
    if path is not None:
        return path
    reason = (
        "headless Chromium not found (set ICP_CHROMIUM or install Debian's chromium, "
        "e.g. `make browser`; Playwright must be installed too)"
    )
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


def check_page(
    html_path: str | Path,
    *,
    screenshot: str | Path | None = None,
    pdf: str | Path | None = None,
    timeout_s: float = 30,
    width: int = 1200,
) -> PageReport:
    """Open a local HTML file in headless Chromium with the network blocked.

    Parameters
    ----------
    html_path : str or Path
        The page to open.
    screenshot : str or Path, optional
        Where to save a full-page PNG screenshot.
    pdf : str or Path, optional
        Where to save the page printed on A4 (print stylesheet, backgrounds on).
    timeout_s : float
        Seconds allowed for launching, loading and each step.
    width : int
        Viewport width in CSS pixels (390 for a phone, 1400 for a laptop).

    Returns
    -------
    PageReport

    Raises
    ------
    FileNotFoundError
        When the page or the browser is missing.

    Notes
    -----
    Playwright's sync API refuses to run inside a running asyncio loop, which
    is where a Jupyter kernel executes cells; there the check runs in a
    worker thread, so the same call works in notebooks, scripts and tests.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _check_page(html_path, screenshot=screenshot, pdf=pdf, timeout_s=timeout_s, width=width)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(
            _check_page, html_path, screenshot=screenshot, pdf=pdf, timeout_s=timeout_s, width=width
        ).result()


def _check_page(
    html_path: str | Path,
    *,
    screenshot: str | Path | None,
    pdf: str | Path | None,
    timeout_s: float,
    width: int = 1200,
) -> PageReport:
    from playwright.sync_api import sync_playwright

    page_path = Path(html_path).resolve()
    if not page_path.is_file():
        raise FileNotFoundError(f"{page_path}: no such page")
    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("headless Chromium not found: set ICP_CHROMIUM or install chromium")
    report = PageReport(url=page_path.as_uri(), width=width)
    timeout_ms = timeout_s * 1000

    blocked: set[str] = set()

    def on_route(route) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            blocked.add(url)
            report.failed_requests.append(f"blocked: {url}")
            route.abort("blockedbyclient")

    def on_request_failed(request) -> None:
        if request.url not in blocked:  # blocked ones are already recorded
            report.failed_requests.append(f"{request.failure or 'failed'}: {request.url}")

    def on_console(message) -> None:
        if message.type == "error":
            report.console_errors.append(message.text)

    def on_dialog(dialog) -> None:
        report.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    with tempfile.TemporaryDirectory(prefix="icp-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_ARGS),
            timeout=timeout_ms,
            viewport={"width": width, "height": 900},
        )
        try:
            context.set_default_timeout(timeout_ms)
            context.route("**/*", on_route)
            context.set_offline(True)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("console", on_console)
            page.on("pageerror", lambda error: report.page_errors.append(str(error)))
            page.on("requestfailed", on_request_failed)
            page.on("dialog", on_dialog)
            page.goto(report.url, wait_until="load", timeout=timeout_ms)
            report.title = page.title()
            report.text = page.inner_text("body")
            report.n_images = int(page.evaluate(_FIGURES_JS))
            report.overflow_px = max(int(page.evaluate(_OVERFLOW_JS)), 0)
            if screenshot is not None:
                shot = Path(screenshot)
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                report.screenshot = shot
            if pdf is not None:
                printed = Path(pdf)
                printed.parent.mkdir(parents=True, exist_ok=True)
                data = page.pdf(path=str(printed), format="A4", print_background=True)
                report.pdf = printed
                report.pdf_pages = len(_PDF_PAGE_RE.findall(data))
                page.set_viewport_size({"width": _A4_CONTENT_PX, "height": 1000})
                page.emulate_media(media="print")
                report.print_text = page.inner_text("body")
                report.print_clipped = list(page.evaluate(_CLIPPED_JS))
        finally:
            context.close()
    return report
