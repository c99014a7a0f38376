"""Lead-scoring charts: points, tier conversion, calibration, threshold sweep, fit x engagement."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .engagement import fit_engagement_pivots, fit_engagement_view
from .points import ENGAGEMENT, TIERS, resolve_thresholds

__all__ = ["plot_calibration", "plot_fit_engagement", "plot_points", "plot_threshold_sweep", "plot_tier_conversion"]


# --------------------------------------------------------------------------- plots


def _placeholder(text: str, *, title: str) -> Figure:
    """A small figure that says why there is nothing to plot."""
    fig = Figure(figsize=(6, 1.6), layout="constrained")
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    ax.set_title(title)
    return fig


def plot_points(table: pd.DataFrame, *, top: int = 20) -> Figure:
    """Horizontal bars of default and calibrated points per feature (:func:`points_table`)."""
    if table.empty:
        return _placeholder("no activity features", title="Points per activity")
    shown = table.head(top).iloc[::-1]
    columns = [c for c in ("default", "calibrated") if c in shown.columns]
    fig = Figure(figsize=(8, 0.35 * len(shown) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(shown))
    height = 0.8 / len(columns)
    for i, column in enumerate(columns):
        ax.barh(
            y + i * height - 0.4 + height / 2,
            shown[column],
            height=height,
            label=f"{column} points",
        )
    ax.set_yticks(y, shown["feature"])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("points per activity (per unit for counts)")
    ax.legend(loc="lower right")
    ax.set_title("Points per activity")
    return fig


def plot_tier_conversion(tiers: pd.DataFrame) -> Figure:
    """Conversion rate per tier with Wilson intervals, one bar group per point set.

    Without conversions (no ``conversion_rate`` column) the bars show leads per tier.
    """
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    has_rate = "conversion_rate" in tiers.columns
    sets = list(dict.fromkeys(tiers["points"])) if "points" in tiers.columns else [None]
    width = 0.8 / len(sets)
    x = np.arange(len(TIERS))
    for i, name in enumerate(sets):
        part = tiers if name is None else tiers[tiers["points"] == name]
        part = part.set_index("tier").reindex(list(TIERS))
        leads = part["leads"].fillna(0).astype(int)
        position = x + i * width - 0.4 + width / 2
        if not has_rate:
            ax.bar(position, leads, width=width, label=name)
            continue
        rate = part["conversion_rate"].to_numpy(dtype=float)
        err = np.vstack(
            [
                np.nan_to_num(rate - part["ci_low"].to_numpy(dtype=float)),
                np.nan_to_num(part["ci_high"].to_numpy(dtype=float) - rate),
            ]
        )
        bars = ax.bar(position, np.nan_to_num(rate), width=width, yerr=err, capsize=3, label=name)
        for bar, n in zip(bars, leads, strict=True):
            ax.annotate(
                f"n={n}",
                (bar.get_x() + bar.get_width() / 2, 0),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(x, [f"{t} ({ENGAGEMENT[t]})" for t in TIERS])
    if has_rate:
        ax.set_ylabel("conversion rate (95% Wilson interval)")
        ax.set_ylim(0, 1)
        ax.set_title("Conversion by engagement tier (held-out leads)")
    else:
        ax.set_ylabel("leads")
        ax.set_title("Leads by engagement tier")
    if sets != [None]:
        ax.legend(title="points")
    return fig


def plot_calibration(deciles: pd.DataFrame) -> Figure:
    """Conversion rate per score decile, one line per model (:meth:`PointsEvaluation.deciles`)."""
    if deciles.empty:
        return _placeholder(
            "no conversions in the leads: nothing to calibrate against", title="Calibration"
        )
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    for name, part in deciles.groupby("points", sort=False):
        ax.plot(part["decile"], part["conversion_rate"], marker="o", label=name)
        ax.fill_between(part["decile"], part["ci_low"], part["ci_high"], alpha=0.15)
    ax.set_xlabel("score decile (ties kept together)")
    ax.set_ylabel("conversion rate")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Calibration: conversion by score decile (held-out leads)")
    return fig


def plot_threshold_sweep(
    sweep: pd.DataFrame, *, thresholds: Mapping[str, float] | None = None
) -> Figure:
    """Conversion rate and share of leads above each threshold, per point set."""
    if sweep.empty:
        return _placeholder(
            "no conversions in the leads: nothing to sweep", title="Moving the thresholds"
        )
    limits = resolve_thresholds(thresholds)
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, sharex=True)
    for name, part in sweep.groupby("points", sort=False):
        left.plot(part["threshold"], part["conversion_rate"], marker=".", label=name)
        right.plot(part["threshold"], part["share_of_leads"], marker=".", label=f"{name}: leads")
        right.plot(
            part["threshold"],
            part["share_of_converters"],
            linestyle="--",
            label=f"{name}: converters",
        )
    for ax in (left, right):
        for value in limits.values():
            ax.axvline(value, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xlabel("threshold (score above)")
        ax.set_ylim(0, 1.02)
    left.set_ylabel("conversion rate above")
    right.set_ylabel("share above")
    left.legend(title="points")
    right.legend(fontsize=8)
    fig.suptitle("Moving the thresholds")
    return fig


def plot_fit_engagement(
    table: pd.DataFrame | None, *, scored: pd.DataFrame | None = None
) -> Figure:
    """The A1-C3 matrix: leads per cell, annotated with conversion rates.

    Without the fit tiers (``table`` None) the engagement tiers of ``scored`` are shown alone.
    """
    if table is None:
        if scored is None:
            return _placeholder("no fit tiers and no scored leads", title="Fit x engagement")
        view = fit_engagement_view(None, scored)
        fig = Figure(figsize=(6, 3.2), layout="constrained")
        ax = fig.subplots()
        ax.bar(
            [f"{t} ({e})" for t, e in zip(view.index, view["engagement"], strict=True)],
            view["leads"],
        )
        ax.set_ylabel("leads")
        ax.set_title("Engagement tiers alone (no ICP fit tiers for these leads)")
        return fig
    pivots = fit_engagement_pivots(table)
    counts = pivots["leads"]
    rates = pivots.get("conversion_rate")
    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(counts.to_numpy(dtype=float), cmap="Blues")
    fig.colorbar(image, ax=ax, label="leads")
    peak = float(np.nanmax(counts.to_numpy(dtype=float))) if counts.size else 0.0
    for i, fit in enumerate(counts.index):
        for j, engagement in enumerate(counts.columns):
            n = int(counts.iloc[i, j])
            text = f"{fit}{engagement}\n{n}"
            if rates is not None and not np.isnan(rates.iloc[i, j]):
                text += f"\n{rates.iloc[i, j]:.0%}"
            colour = "white" if peak and n > 0.6 * peak else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color=colour)
    ax.set_xticks(
        range(len(counts.columns)), [f"{e} ({TIERS[int(e) - 1]})" for e in counts.columns]
    )
    ax.set_yticks(range(len(counts.index)), list(counts.index))
    ax.set_xlabel("engagement (1 strong, 2 medium, 3 weak)")
    ax.set_ylabel("ICP fit tier")
    ax.set_title("Fit x engagement: leads (conversion rate)")
    return fig
