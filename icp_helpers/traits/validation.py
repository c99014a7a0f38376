"""Backtest: does the fit score rank the accounts that turn out best in later quarters?

The design
----------
With ``h = analysis.validation_quarters``:

1. **Selection quarter** ``S``. If the data holds ``h`` complete quarters
   after the run's quarter ``Q``, ``S = Q`` (the run's own quarter is
   validated on what came next). Otherwise, and that is the usual case
   when ``Q`` is the latest quarter, ``S = Q - h``, and the test quarters
   are ``Q - h + 1 .. Q``.
2. **Select and fit on data up to S only**: the feature window ending with
   ``S``, the best customers by the value rule, candidate who-traits,
   :class:`~icp_helpers.traits.selection.TraitSelector` and
   :class:`~icp_helpers.traits.fitscore.FitScorer` exactly as in the notebook. No
   deal after ``S`` is read.
3. **Outcome**: the value rule applied to the ``h`` test quarters alone
   (features over a window of ``h`` quarters), defining "best" the same way
   as step 1. Every account that existed at ``S`` is ranked; an account
   that buys nothing later is simply not best.
4. **Rankers** of the accounts at ``S``:

   * ``fit score``: the ICP fit score (who-traits only);
   * ``black box``: a seeded ``HistGradientBoostingClassifier`` on every
     column of the feature table at ``S`` (past spend, frequency, recency,
     behaviour, firmographics, contacts), scored out-of-fold (5-fold,
     stratified) *on the test outcome itself*. It sees the outcome it is
     judged on, so it is an optimistic ceiling, not a rival model;
   * ``past spend``: won value in the window ending with ``S``, the floor
     any ICP should beat for new business.

5. **Metrics**: ROC AUC (ties count half) and top-decile lift (share of
   later-best accounts among the top 10% by the ranker, over their share
   overall; ties at the cut are split in proportion), and each ranker's AUC
   and lift as a ratio to the ceiling's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from ..customers.best import negative_cohort
from ..customers.roles import config_roles
from ..data.config import ProjectConfig, load_config
from ..data.folds import capped_training_rows
from ..data.quarters import Quarter, latest_complete_quarter
from .fitscore import FitScorer
from .selection import (
    TraitSelector,
    disqualifier_traits,
    negative_icp,
    penalty_traits,
    selector_params,
)
from .traits import candidate_traits, scored_kinds, trait_matrix, value_rule_columns

__all__ = [
    "BacktestResult",
    "backtest_quarters",
    "run_backtest",
    "run_cross_validation",
    "backtest",
    "select_and_score",
    "write_held_out",
    "read_held_out",
    "auc",
    "top_share_lift",
    "top_share_lifts",
    "lift_curve",
    "black_box_scores",
    "capped_training_rows",
    "plot_lift_chart",
    "validation_markdown",
    "cannot_validate_reason",
    "validation_warnings",
]

#: Training accounts per fold of the black box at most: a stated sample for
#: the ceiling, not the product. With five fits on 800,000 accounts each, the
#: backtest was the slowest cell of a million-account quarter (169 s).
BLACK_BOX_MAX_TRAIN = 100_000

MODELS = {
    "fit score": "ICP fit score: points of the selected who-traits",
    "black box": "gradient boosting on every feature column, out-of-fold on the outcome, trained "
    f"on at most {BLACK_BOX_MAX_TRAIN:,} accounts per fold (ceiling)",
    "past spend": "won value in the selection window (floor)",
}


@dataclass
class BacktestResult:
    """Everything a backtest produced.

    Attributes
    ----------
    metrics : DataFrame
        One row per ranker: ``model``, ``description``, ``auc``,
        ``top_decile_lift``, ``auc_vs_ceiling``, ``lift_vs_ceiling`` and the
        context columns ``selection_quarter``, ``test_quarters``,
        ``n_accounts``, ``n_best_later``, ``n_traits``, ``traits``.
    scores : DataFrame
        Per account at ``S``: ``account_id``, ``is_best_later`` and one
        column per ranker.
    selection_quarter : Quarter
    test_quarters : list of Quarter
    selector : TraitSelector
    scorer : FitScorer
    notes : list of str
    held_out : DataFrame
        Per account at ``S``: ``account_id``, ``fit_score``, ``tier`` (the
        score and tiers fitted at ``S``) and ``is_best_later``, with the
        quarters, traits, cut-offs and note in ``attrs``: what step 4 shows
        as the tiers' hit rates on the quarters the selection did not see.
    """

    metrics: pd.DataFrame
    scores: pd.DataFrame
    selection_quarter: Quarter
    test_quarters: list[Quarter]
    selector: TraitSelector
    scorer: FitScorer
    notes: list[str] = field(default_factory=list)
    held_out: pd.DataFrame | None = None


def auc(y, score) -> float:
    """ROC AUC; NaN when only one class is present."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, np.asarray(score, dtype=float)))


def _expected_hits_top(y: np.ndarray, score: np.ndarray, k):
    """Expected positives among the top ``k`` rows by score, ties split evenly.

    Rows are grouped by equal score, best first; the groups that fit whole
    into the top ``k`` count fully and the next one in proportion. ``k``
    may be an array: the rows are sorted once for all of its values.
    """
    order = np.argsort(-score, kind="stable")
    s, yy = score[order], y[order].astype(float)
    _, start, sizes = np.unique(-s, return_index=True, return_counts=True)
    ks = np.atleast_1d(np.asarray(k, dtype=float))
    if len(start) == 0:
        hits = np.zeros(len(ks))
    else:
        group_hits = np.add.reduceat(yy, start)
        taken_after, hits_after = np.cumsum(sizes), np.cumsum(group_hits)
        whole = np.searchsorted(taken_after, ks, side="right")
        before = np.maximum(whole - 1, 0)
        hits = np.where(whole > 0, hits_after[before], 0.0).astype(float)
        taken = np.where(whole > 0, taken_after[before], 0).astype(float)
        partial = whole < len(sizes)
        nxt = np.minimum(whole, len(sizes) - 1)
        hits += np.where(partial, group_hits[nxt] * (ks - taken) / sizes[nxt], 0.0)
    return float(hits[0]) if np.ndim(k) == 0 else hits


def top_share_lift(y, score, *, share: float = 0.1) -> float:
    """Lift in the top ``share`` of accounts by score: hit rate there over the base rate."""
    return float(top_share_lifts(y, score, shares=[share])[0])


def top_share_lifts(y, score, *, shares) -> np.ndarray:
    """:func:`top_share_lift` at each of ``shares``, sorting the accounts once."""
    y = np.asarray(y, dtype=bool)
    score = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf)
    shares = np.asarray(shares, dtype=float)
    n = len(y)
    if n == 0 or not y.any():
        return np.full(len(shares), np.nan)
    k = shares * n
    return (_expected_hits_top(y, score, k) / k) / y.mean()


def lift_curve(scores: pd.DataFrame, *, target: str = "is_best_later", steps: int = 10) -> pd.DataFrame:
    """Cumulative lift at the top 10%, 20%, ... of accounts for every ranker column.

    Returns
    -------
    DataFrame
        ``model``, ``top_share``, ``lift``.
    """
    y = scores[target].to_numpy(dtype=bool)
    shares = np.arange(1, steps + 1) / steps
    parts = [
        pd.DataFrame(
            {
                "model": model,
                "top_share": shares,
                "lift": top_share_lifts(y, scores[model].to_numpy(dtype=float), shares=shares),
            }
        )
        for model in [c for c in scores.columns if c not in ("account_id", target)]
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model", "top_share", "lift"])


def _inputs(project_or_tables: Any, config: ProjectConfig):
    """The deals as an engine table, the accounts and contacts, and the backend they share.

    A project hands out its deals through :meth:`~icp_helpers.data.loaders.Project.deals_table`
    (they need never become a pandas frame); a mapping's deals (a frame or an
    Ibis table) are handed to the engine once here.
    """
    from ..data.engine import _table_backend, as_table, connect

    if isinstance(project_or_tables, Mapping):
        get = project_or_tables.get
        deals = get("deals")
        backend = _table_backend(deals) if deals is not None and not isinstance(deals, pd.DataFrame) else None
        backend = backend or connect(config)
        return as_table(deals, backend), get("accounts"), get("contacts"), backend
    project = project_or_tables
    if project is None:
        from ..data.loaders import load_project

        project = load_project(config, tables=["accounts", "deals", "contacts"])
    return project.deals_table(), project.accounts, project.contacts, project.backend


#: Folds and repeats of the cross-validation that stands in for a later quarter.
CV_FOLDS, CV_REPEATS = 5, 3


def run_cross_validation(
    features: pd.DataFrame,
    *,
    config: ProjectConfig,
    quarter: str | Quarter | None = None,
    method: str = "odds",
    n_splits: int = CV_FOLDS,
    n_repeats: int = CV_REPEATS,
) -> BacktestResult:
    """Validate the fit score by repeated stratified cross-validation.

    For data with no time axis (a snapshot export), no later quarter can
    be held out. Instead the customers are split into ``n_splits`` folds
    stratified by best-customer status, ``n_repeats`` times with different
    seeds (scikit-learn's ``RepeatedStratifiedKFold``): on each split the
    traits are selected and the points fitted on the other folds exactly as
    in step 3 (:func:`select_and_score`), and the held-out fold is scored.
    The metrics are the mean over repeats of the out-of-fold AUC and
    top-decile lift; the rankers are those of :func:`run_backtest` (the
    black box out-of-fold on the same outcome; past spend, which defines
    "best" here, is an upper reference rather than a floor). The held-out
    tiers are those of the first repeat.
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    from ..customers.best import value_scores

    sel = config.traits
    y = value_scores(features, rule=config.best_customers)["is_best"].to_numpy(dtype=bool)
    n_splits = int(min(n_splits, y.sum(), (~y).sum()))
    if n_splits < 2:
        raise ValueError("cross-validation needs at least two best customers and two others")
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=sel.random_state)
    oof = np.full((n_repeats, len(y)), np.nan)
    tiers = np.full(len(y), "", dtype=object)
    chosen: dict[str, int] = {}
    selector = scorer = None
    for i, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        repeat = i // n_splits
        train_frame = features.iloc[train].reset_index(drop=True)
        selector, scorer = select_and_score(train_frame, y[train], config=config, method=method)
        for trait in selector.traits_:
            chosen[trait.id] = chosen.get(trait.id, 0) + 1
        test_frame = features.iloc[test].reset_index(drop=True)
        score = scorer.transform(test_frame).to_numpy(dtype=float)
        oof[repeat, test] = score
        if repeat == 0:
            tiers[test] = np.asarray(scorer._tiers(score, test_frame)).astype(str)
    spend = pd.to_numeric(features["won_value"], errors="coerce").fillna(0).to_numpy()
    box = black_box_scores(features, y, random_state=sel.random_state)
    rows = []
    for model, description in MODELS.items():
        if model == "fit score":
            aucs = [auc(y, oof[r]) for r in range(n_repeats)]
            lifts = [top_share_lift(y, oof[r], share=0.1) for r in range(n_repeats)]
            value_auc, value_lift = float(np.nanmean(aucs)), float(np.nanmean(lifts))
        else:
            ranked = box if model == "black box" else spend
            value_auc, value_lift = auc(y, ranked), top_share_lift(y, ranked, share=0.1)
        rows.append({"model": model, "description": description, "auc": value_auc,
                     "top_decile_lift": value_lift})
    metrics = pd.DataFrame(rows)
    metrics.loc[metrics["model"] == "past spend", "description"] = (
        "total value of the snapshot (defines best here: an upper reference, not a floor)"
    )
    ceiling = metrics.set_index("model").loc["black box"]
    metrics["auc_vs_ceiling"] = metrics["auc"] / ceiling["auc"]
    metrics["lift_vs_ceiling"] = metrics["top_decile_lift"] / ceiling["top_decile_lift"]
    total = n_splits * n_repeats
    # traits picked in most fits: what the validated rule usually selects
    usual = [t for t, n in sorted(chosen.items(), key=lambda kv: -kv[1]) if n >= total / 2]
    metrics["validated_by"] = "repeated cross-validation"
    metrics["selection_quarter"] = str(quarter) if quarter else ""
    metrics["test_quarters"] = f"{n_repeats}x{n_splits}-fold cross-validation"
    metrics["n_accounts"] = len(y)
    metrics["n_best_later"] = int(y.sum())
    metrics["n_traits"] = len(usual)
    metrics["traits"] = ", ".join(usual)
    note = (
        f"The data has no time axis (a snapshot of per-customer totals), so no later quarter "
        f"can be held out: the fit score is validated by repeated stratified cross-validation "
        f"({n_repeats} repeats of {n_splits} folds). On each split the traits are selected and "
        "the points fitted on the other folds, and the held-out customers are scored."
    )
    scores = pd.DataFrame(
        {
            "account_id": features["account_id"].to_numpy(),
            "is_best_later": y,
            "fit score": oof[0],
            "black box": box,
            "past spend": spend,
        }
    )
    held_out = pd.DataFrame(
        {
            "account_id": scores["account_id"],
            "fit_score": np.nan_to_num(oof[0]).astype("int64"),
            "tier": tiers.astype(str),
            "is_best_later": y,
        }
    )
    held_out.attrs.update(
        selection_quarter="",
        test_quarters=[],
        traits=usual,
        cutoffs=dict(scorer.cutoffs_) if scorer is not None else {},
        note=note,
        validated_by="repeated cross-validation",
    )
    return BacktestResult(
        metrics=metrics,
        scores=scores,
        selection_quarter=Quarter.parse(str(quarter)) if quarter else None,
        test_quarters=[],
        selector=selector,
        scorer=scorer,
        notes=[note],
        held_out=held_out,
    )


def _latest(dates: pd.Series, *, where: np.ndarray | None = None):
    """The latest of ``dates`` (those ``where``), missing when there is none.

    Datetime columns are reduced in place: a filtered copy of 20 million
    dates took longer than the maximum itself.
    """
    if isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M":
        ticks = dates.to_numpy().view("i8")
        not_a_time = np.iinfo(np.int64).min  # NaT, below every date
        latest = np.maximum.reduce(ticks, where=True if where is None else where, initial=not_a_time)
        return pd.NaT if latest == not_a_time else pd.Timestamp(np.array(latest).view(dates.dtype)[()])
    return pd.to_datetime(dates if where is None else dates[where]).max()


def _latest_closed(deals) -> Any:
    """The latest close date of the closed (won or lost) deals of a frame or an engine table."""
    if isinstance(deals, pd.DataFrame):
        closed = deals["stage"].isin(["won", "lost"]).to_numpy() if "stage" in deals.columns else None
        return _latest(deals["close_date"], where=closed)
    if "stage" in deals.columns:
        deals = deals.filter(deals["stage"].isin(["won", "lost"]))
    dates = deals["close_date"]
    if dates.type().is_string():
        dates = dates.cast("timestamp")
    latest = dates.max().execute()
    return pd.NaT if latest is None else pd.Timestamp(latest)


def backtest_quarters(
    deals, *, quarter: str | Quarter, horizon: int
) -> tuple[Quarter, list[Quarter], str]:
    """Selection quarter and test quarters (see the module docstring), with a note in words.

    ``deals`` is a pandas frame or an Ibis table (the engine computes the
    latest close date; only that date comes back).
    """
    q = Quarter.parse(quarter)
    last = latest_complete_quarter([_latest_closed(deals)])
    if q + horizon <= last:
        s = q
        note = (
            f"The data reaches {last}, so the selection of {q} itself is tested on the "
            f"{horizon} quarter(s) after it."
        )
    else:
        s = q - horizon
        tested = f"{s + 1}" if horizon == 1 else f"{s + 1} to {q}"
        note = (
            f"{q} is the latest complete quarter in the data, so traits are selected with the "
            f"window ending {s} and tested on {tested}, which the selection did not see."
        )
    return s, [s + i for i in range(1, horizon + 1)], note


#: Text columns keep their most frequent levels as categories (the rest is ``other``),
#: so that gradient boosting's 255 bins hold every category.
MAX_CATEGORIES = 250


def _model_frame(features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Every feature column as floats for gradient boosting, and which of them are categories.

    Dates, ids and columns with at most one distinct value (nothing to learn)
    are dropped. Text becomes the integer code of its level (levels in
    alphabetical order, missing stays missing), coded once here rather than
    again by every fold's model.
    """
    drop = {"account_id", "name", "referred_by"}
    columns, categorical = {}, []
    for column in features.columns:
        values = features[column]
        if column in drop or pd.api.types.is_datetime64_any_dtype(values.dtype):
            continue
        is_text = not (pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype))
        if is_text:
            codes, levels = pd.factorize(values)
            if len(levels) < 2:
                continue
            levels = np.asarray(levels, dtype=object)
            if len(levels) > MAX_CATEGORIES:
                top = np.isin(levels, values.value_counts().index[:MAX_CATEGORIES].to_numpy(dtype=object))
                levels = np.where(top, levels, "other")
            at = np.unique(levels.astype(str), return_inverse=True)[1].ravel()
            floats = np.where(codes >= 0, at[np.maximum(codes, 0)], np.nan)
        else:
            floats = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            known = floats[~np.isnan(floats)]
            # two distinct values at least; cheaper than counting them all
            if len(known) == 0 or known.min() == known.max():
                continue
        columns[column] = floats
        categorical.append(is_text)
    # one float matrix, filled column by column: a dict of arrays would be
    # copied once more into pandas' block
    matrix = np.empty((len(features), len(columns)), dtype=float, order="F")
    for j, floats in enumerate(columns.values()):
        matrix[:, j] = floats
    frame = pd.DataFrame(matrix, index=features.index, columns=list(columns), copy=False)
    return frame, np.asarray(categorical, dtype=bool)


def black_box_scores(
    features: pd.DataFrame,
    y,
    *,
    random_state: int = 0,
    n_splits: int = 5,
    max_train: int | None = BLACK_BOX_MAX_TRAIN,
) -> np.ndarray:
    """Out-of-fold probabilities of a seeded gradient-boosted model on every column.

    Each fold's model learns from at most ``max_train`` of the other folds'
    accounts (a stratified sample; all when None) and scores every account
    of its own fold.
    """
    X, categorical = _model_frame(features)
    y = np.asarray(y, dtype=bool)
    out = np.full(len(y), np.nan)
    n_splits = int(min(n_splits, y.sum(), (~y).sum()))
    if n_splits < 2:
        return np.zeros(len(y))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    # One OpenMP thread: each fold learns from at most ``max_train`` accounts, where
    # threads cost more than they save, and threads waiting for a busy core spin
    # (a million accounts on two shared cores: 224 s with two threads, 41 s with
    # one). The model is the same either way: sklearn's boosting is deterministic.
    with threadpool_limits(limits=1, user_api="openmp"):
        for train, test in folds.split(X, y):
            train = capped_training_rows(train, y, max_train=max_train, random_state=random_state)
            model = HistGradientBoostingClassifier(
                categorical_features=categorical, random_state=random_state, max_iter=100,
                learning_rate=0.1, max_leaf_nodes=15, early_stopping=False,
            )
            model.fit(X.iloc[train], y[train])
            out[test] = model.predict_proba(X.iloc[test])[:, 1]
    return out


def select_and_score(
    features: pd.DataFrame, is_best, *, config: ProjectConfig, method: str = "odds"
) -> tuple[TraitSelector, FitScorer]:
    """Select the scorable traits and fit their points, as step 3 does, on one window.

    The backtest (:func:`run_backtest`) repeats the selection on an earlier
    window with this, so that what it validates is the rule of step 3 and
    not a variant of it. Only scorable kinds compete
    (:func:`icp_helpers.traits.traits.scored_kinds`): interview codes say why, and
    cannot be scored on accounts nobody interviewed.

    Parameters
    ----------
    features : DataFrame
        Per-account features of the window (:func:`icp_helpers.customers.features.account_features`).
    is_best : array of bool
        The best-customer flag of the window, row for row.
    config : ProjectConfig
        Supplies the value rule (whose columns are not candidates) and ``traits``.
    method : str
        Points method of :class:`~icp_helpers.traits.fitscore.FitScorer`.
    """
    settings = config.traits
    kinds = scored_kinds(settings.score_behaviour)
    candidates = [
        t
        for t in candidate_traits(features, exclude=value_rule_columns(config.best_customers),
                                  roles=config_roles(config))
        if t.kind in kinds
    ]
    selector = TraitSelector(traits=candidates, select_kinds=kinds, **selector_params(settings)).fit(
        trait_matrix(features, candidates), is_best
    )
    negative = None
    is_negative = negative_cohort(features)["is_negative"].to_numpy(dtype=bool)
    if is_negative.any():
        negative = negative_icp(
            trait_matrix(features, candidates), is_negative, traits=candidates,
            best_evidence=selector.evidence_, **selector_params(settings),
        )
    penalties = penalty_traits(selector, negative, kinds=kinds) if settings.weaker_fit_points else []
    scorer = FitScorer(
        traits=selector.traits_, kinds=kinds, method=method, penalties=penalties,
        disqualifiers=disqualifier_traits(negative, candidates),
    ).fit(features, is_best)
    return selector, scorer


def _ranker_metrics(y: np.ndarray, scores: pd.DataFrame) -> pd.DataFrame:
    """AUC and top-decile lift of every ranker of :data:`MODELS`, and each as a ratio to the ceiling's."""
    rows = []
    for model, description in MODELS.items():
        rows.append(
            {
                "model": model,
                "description": description,
                "auc": auc(y, scores[model]),
                "top_decile_lift": top_share_lift(y, scores[model].to_numpy(), share=0.1),
            }
        )
    metrics = pd.DataFrame(rows)
    ceiling = metrics.set_index("model").loc["black box"]
    metrics["auc_vs_ceiling"] = metrics["auc"] / ceiling["auc"]
    metrics["lift_vs_ceiling"] = metrics["top_decile_lift"] / ceiling["top_decile_lift"]
    return metrics


def run_backtest(
    project_or_tables: Any = None,
    *,
    quarter: str | Quarter,
    config: ProjectConfig | str | Path | None = None,
    method: str = "odds",
) -> BacktestResult:
    """Select on data up to ``S``, score, and measure ranking of the later best customers.

    Parameters
    ----------
    project_or_tables : Project, mapping or None
        A loaded :class:`~icp_helpers.data.loaders.Project` (its deals are
        read through ``deals_table()``, on the engine), a mapping with
        ``deals`` (a frame or an Ibis table), ``accounts`` (and ``contacts``)
        canonical tables, or None to load them from ``config``.
    quarter : str or Quarter
        The run's quarter ``Q``.
    config : ProjectConfig or path
        Supplies the windows, the value rule, the selection settings and
        the engine.
    method : str
        Points method of the fit score.
    """
    from ..customers.best import value_columns, value_scores
    from ..customers.features import account_features
    from ..data.engine import as_table

    if not isinstance(config, ProjectConfig):
        config = load_config(config)
    deals, accounts, contacts, backend = _inputs(project_or_tables, config)
    if config.is_snapshot or deals is None:
        # no time axis: a later quarter cannot be held out, so folds of customers are
        from ..data.snapshot import snapshot_features

        features = snapshot_features(accounts, snapshot=config.snapshot, quarter=quarter)
        return run_cross_validation(features, config=config, quarter=quarter, method=method)
    horizon = config.analysis.validation_quarters
    lookback = config.analysis.lookback_quarters
    rule = config.best_customers
    sel = config.traits
    s, tests, note = backtest_quarters(deals, quarter=quarter, horizon=horizon)
    # handed to the engine once, for both windows' feature builds
    accounts, contacts = (as_table(t, backend) for t in (accounts, contacts))

    past = account_features(deals, accounts, contacts, quarter=s, lookback_quarters=lookback,
                            backend=backend)
    past_scores = value_scores(past, rule=rule)
    best_past = past_scores["is_best"].to_numpy(dtype=bool)
    # selected and fitted on the comparison population, as step 3 does; every account is ranked
    compared = past_scores["in_comparison"].to_numpy(dtype=bool)
    if not compared.any():  # nobody bought before the test quarters: nothing to compare, say so below
        compared = np.ones(len(past), dtype=bool)
    selector, scorer = select_and_score(past[compared].reset_index(drop=True), best_past[compared],
                                        config=config, method=method)

    # the outcome needs only the value rule's columns: no modes, no contacts
    later = account_features(deals, accounts, contacts, quarter=tests[-1], lookback_quarters=horizon,
                             backend=backend, columns=value_columns(rule))
    later_scores = value_scores(later, rule=rule).set_index("account_id")
    y = later_scores["is_best"].reindex(past["account_id"].to_numpy()).fillna(False).to_numpy(dtype=bool)
    bought_later = later_scores["is_active"].reindex(past["account_id"].to_numpy()).fillna(False).to_numpy(dtype=bool)

    scores = pd.DataFrame(
        {
            "account_id": past["account_id"].to_numpy(),
            "is_best_later": y,
            "fit score": scorer.transform(past).to_numpy(dtype=float),
            "black box": black_box_scores(past, y, random_state=sel.random_state),
            "past spend": pd.to_numeric(past["won_value"], errors="coerce").fillna(0).to_numpy(),
        }
    )
    metrics = _ranker_metrics(y, scores)
    metrics["validated_by"] = "later quarters"
    metrics["selection_quarter"] = str(s)
    metrics["test_quarters"] = f"{tests[0]}:{tests[-1]}" if len(tests) > 1 else str(tests[0])
    metrics["n_accounts"] = len(y)
    metrics["n_best_later"] = int(y.sum())
    metrics["n_bought_later"] = int(bought_later.sum())
    metrics["n_best_past"] = int(best_past.sum())
    metrics["n_close_dates"] = int(deals["close_date"].cast("date").nunique().execute())
    metrics["n_with_deals_past"] = int((past["won_deals"] > 0).sum()) if "won_deals" in past else len(past)
    metrics["n_traits"] = len(selector.traits_)
    metrics["traits"] = ", ".join(t.id for t in selector.traits_)
    held_out = pd.DataFrame(
        {
            "account_id": scores["account_id"],
            "fit_score": scores["fit score"].astype("int64"),
            "tier": scorer._tiers(scores["fit score"].to_numpy(), past).astype(str),
            "is_best_later": y,
        }
    )
    held_out.attrs.update(
        selection_quarter=str(s),
        test_quarters=[str(q) for q in tests],
        traits=[t.id for t in selector.traits_],
        cutoffs=dict(scorer.cutoffs_),
        note=note,
        validated_by="later quarters",
    )
    return BacktestResult(
        metrics=metrics,
        scores=scores,
        selection_quarter=s,
        test_quarters=tests,
        selector=selector,
        scorer=scorer,
        notes=[note],
        held_out=held_out,
    )


def write_held_out(result: BacktestResult, run_dir: str | Path) -> Path:
    """Write the backtest's tiers as ``held_out_tiers.parquet`` (and its context as JSON).

    Step 4 reads them (:func:`read_held_out`) to show how often each tier
    became a best customer on the quarters the selection did not see,
    without redoing the selection.
    """
    from ..data.artifacts import write_json, write_table

    write_json(dict(result.held_out.attrs), run_dir, "held_out_tiers.json")
    return write_table(result.held_out, run_dir, "held_out_tiers.parquet")


def read_held_out(run_dir: str | Path) -> pd.DataFrame:
    """The tiers of :func:`write_held_out`, with their context in ``attrs``."""
    from ..data.artifacts import read_json, read_table

    table = read_table(run_dir, "held_out_tiers.parquet", made_by="03_select_traits")
    table.attrs.update(read_json(run_dir, "held_out_tiers.json", made_by="03_select_traits"))
    return table


def backtest(
    project_or_tables: Any = None,
    *,
    quarter: str | Quarter,
    config: ProjectConfig | str | Path | None = None,
    method: str = "odds",
) -> pd.DataFrame:
    """The metrics table of :func:`run_backtest` (``validation.parquet``)."""
    return run_backtest(project_or_tables, quarter=quarter, config=config, method=method).metrics


def plot_lift_chart(result: BacktestResult | pd.DataFrame, *, ax=None):
    """Cumulative lift at the top 10%..100% of accounts per ranker (1 = random)."""
    import matplotlib.pyplot as plt

    scores = result.scores if isinstance(result, BacktestResult) else result
    curve = lift_curve(scores)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    styles = {"fit score": "-o", "black box": "--s", "past spend": ":^"}
    for model, part in curve.groupby("model", sort=False):
        ax.plot(100 * part["top_share"], part["lift"], styles.get(model, "-"), label=model)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("top % of accounts by the ranker")
    ax.set_ylabel("lift: later-best share vs overall")
    ax.set_title("Lift chart on the test quarters")
    ax.legend()
    return ax


#: Best customers at the selection quarter below which no trait can carry evidence.
MIN_BEST_TO_VALIDATE = 10
#: Share of the later buyers from which "best later" is mostly "bought anything".
MOSTLY_BUYERS = 0.8


def cannot_validate_reason(metrics: pd.DataFrame, selection_quarter=None) -> str | None:
    """Why the held-out step cannot validate the score, in words (None when it can)."""
    m = metrics.set_index("model").loc["fit score"]
    at = f" at {selection_quarter}" if selection_quarter is not None else ""
    if "n_close_dates" in m and int(m["n_close_dates"]) <= 1:
        return ("every deal carries the same close date, so there is no earlier window to "
                "select on and no later one to test on")
    if "n_with_deals_past" in m and int(m["n_with_deals_past"]) == 0:
        return (f"no account won a deal in the window ending{at or ' before the test quarters'} "
                "(no deals before the test quarter), so there is nothing to select traits on")
    if "n_best_past" in m and int(m["n_best_past"]) < MIN_BEST_TO_VALIDATE:
        return (f"only {int(m['n_best_past'])} best customers{at} (fewer than "
                f"{MIN_BEST_TO_VALIDATE}): too few for any trait to carry evidence")
    if int(m["n_best_later"]) == 0:
        return "no account was a best customer in the test quarters"
    return None


def validation_warnings(metrics: pd.DataFrame) -> list[str]:
    """Warnings about what the held-out outcome measures (empty when none)."""
    m = metrics.set_index("model").loc["fit score"]
    if "n_bought_later" not in m:
        return []
    best, bought = int(m["n_best_later"]), int(m["n_bought_later"])
    if bought and best >= MOSTLY_BUYERS * bought:
        return [
            f"The later best customers are {best:,} of the {bought:,} accounts that bought in the "
            f"test quarters ({best / bought:.0%}): \"best later\" is mostly \"bought anything\", "
            "so this validates who buys at all more than who buys most."
        ]
    return []


def validation_markdown(result: BacktestResult) -> str:
    """The backtest in words: the quarters, and the fit score against ceiling and floor."""
    m = result.metrics.set_index("model")
    fit, box, spend = m.loc["fit score"], m.loc["black box"], m.loc["past spend"]
    if result.held_out is not None and result.held_out.attrs.get("validated_by") == "repeated cross-validation":
        head = " ".join(result.notes) + (
            f" Of the {int(fit['n_accounts'])} customers, {int(fit['n_best_later'])} are best customers. "
        )
        if int(fit["n_traits"]) == 0:
            return head + (
                "No who-trait was selected in most of the folds, so the fit score ranks held-out "
                f"customers little better than chance (AUC {fit['auc']:.3f}); the black box reaches "
                f"{box['auc']:.3f}."
            )
        return head + (
            f"Scored on customers it did not see, the fit score (usually {fit['traits']}) ranks "
            f"the best customers with mean AUC {fit['auc']:.3f} and top-decile lift "
            f"{fit['top_decile_lift']:.2f}: {fit['auc_vs_ceiling']:.0%} of the black box's AUC "
            f"({box['auc']:.3f}). Total value defines best here, so it is no floor to beat."
        )
    verdict = "above" if fit["auc"] > spend["auc"] else "not above"
    head = (
        " ".join(result.notes)
        + f" Of the {int(fit['n_accounts'])} accounts known at {result.selection_quarter}, "
        f"{int(fit['n_best_later'])} were best customers in the test quarters. "
    )
    head = "".join(f"**Warning:** {w} " for w in validation_warnings(result.metrics)) + head
    reason = cannot_validate_reason(result.metrics, result.selection_quarter)
    if reason is not None and int(fit["n_traits"]) == 0:
        return head + f"The fit score cannot be validated here: {reason}."
    if int(fit["n_traits"]) == 0:
        return head + (
            "No who-trait had enough evidence at the selection quarter, so the fit score ranks "
            f"no account above another (AUC 0.5); the black box, which sees every column "
            f"including past purchases, reaches {box['auc']:.3f} and past spend {spend['auc']:.3f}."
        )
    return head + (
        f"The fit score ({int(fit['n_traits'])} who-traits) ranks them with AUC {fit['auc']:.3f} "
        f"and top-decile lift {fit['top_decile_lift']:.2f}: {fit['auc_vs_ceiling']:.0%} of the "
        f"black box's AUC ({box['auc']:.3f}), and {verdict} ranking by past spend "
        f"({spend['auc']:.3f})."
    )
