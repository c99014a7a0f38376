"""Select at most ten ICP traits from the evidence, prune redundant ones, list the rest.

The rule, applied by :class:`TraitSelector`
-------------------------------------------
1. **Eligible kinds.** Who-traits (``firmographic``, ``contact``) and
   interview codes (``code``, the "why" evidence) can be selected;
   ``behaviour`` traits stay in the evidence table as buying behaviour but
   are not selected, because a prospect has no deals to show them (see
   :mod:`icp_helpers.traits.traits`).
2. **Evidence screen.** A trait must be significant after
   Benjamini-Hochberg correction across all candidates (``q_value <=
   q_threshold``) and clearly over-represented among the best customers:
   the lower end of its lift's 95% CI at least ``min_lift`` (1.2, i.e. at
   least 20% more common among them, with confidence). Significance alone
   is not enough: on thousands of accounts a lift of 1.1 is significant,
   and nobody should target on it.
3. **Rank by impact** ``coverage * ln(lift)`` (see
   :func:`icp_helpers.traits.evidence.impact`): it favours traits that are both
   common among the best customers and strongly enriched, which is what a
   profile needs; a rare trait with a large lift is a niche, a common trait
   with a lift near 1 is not a differentiator.
4. **Prune redundant traits**, greedily in impact order: a trait is dropped
   when the traits already kept (of the same evidence type and population)
   say the same thing, either because it is strongly associated with one
   of them over the accounts (phi coefficient >= ``max_phi``), or because its lift
   vanishes once they are accounted for: the Mantel-Haenszel lift
   stratified by the combinations of the kept traits has a 95% CI that
   reaches below ``min_lift``. Revenue band after employee band is the
   classic pair; a job role that is only common because it is common in
   the selected industry is the subtler one. Who-traits and codes are not
   pruned against each other: the "why" explains the "who".
5. **Stability.** A trait that is neither redundant must also be selected
   again (screen and pruning redone) in at least ``min_stability`` of the
   bootstrap resamples (:func:`icp_helpers.traits.evidence.bootstrap_stability`).
   A trait over-represented but failing the q-value or the stability test
   goes to the *insufficient evidence* list with the reason; on noise, that
   is where every trait ends up.
6. **At most** ``max_traits`` traits (who and why together) are kept; the
   rest are "beyond the limit".

Guards
------
* **Possible leakage.** A trait that separates the cohort almost perfectly
  (single-trait AUC of at least ``max_auc``, 0.95, either way, or a lift
  whose 95% CI starts at ``max_lift_low``, 20, or more) is not selected: on
  real exports that is an outcome or a restatement of the value rule left
  among the columns, not a profile. It is listed with its figures;
  ``traits.confirm_leakage`` lets it through when it is real.
* **One threshold per number.** Of the bands of one numeric column (the
  quarters ``Q1``..``Q4`` and the halves), only the strongest is kept: two
  bands of one variable are one threshold, not two traits.
* **Weaker fit.** A trait clearly under-represented among the best customers
  (q-value within the threshold and the upper end of its lift interval at
  most ``1 / min_lift``) is marked ``weaker fit``: listed beside the
  disqualifiers, and given negative points when ``traits.weaker_fit_points``
  is set.

The negative ICP (:func:`negative_icp`) runs the same rule with the negative
cohort (churned or mostly lost accounts) in place of the best customers,
on who-traits only: the disqualifiers a sales team can see up front.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .evidence import conditional_lift, redundancy, trait_evidence
from .traits import WHO_KINDS, TraitDef

__all__ = [
    "SELECTABLE_KINDS",
    "TraitSelector",
    "selector_params",
    "negative_icp",
    "penalty_traits",
    "disqualifier_traits",
    "weaker_fit_markdown",
    "selection_record",
    "evidence_view",
    "chosen_markdown",
    "not_chosen",
    "buying_behaviour",
    "negative_markdown",
    "plot_forest",
    "plot_stability",
]

SELECTABLE_KINDS = ("firmographic", "contact", "code")


def selector_params(settings) -> dict:
    """The :class:`TraitSelector` (and :func:`negative_icp`) parameters of the ``traits`` config.

    One place turns the config into the rule, so that step 3, the negative
    ICP and the backtest all apply the same one.
    """
    return {
        "max_traits": settings.max_traits,
        "q_threshold": settings.q_threshold,
        "min_stability": settings.min_stability,
        "n_bootstrap": settings.n_bootstrap,
        "bootstrap_max_accounts": settings.bootstrap_max_accounts,
        "random_state": settings.random_state,
        "min_lift": getattr(settings, "min_lift", 1.2),
        "confirmed_leakage": tuple(getattr(settings, "confirm_leakage", ())),
    }


def _fmt_q(q: float) -> str:
    return "q < 0.001" if q < 0.001 else f"q = {q:.3f}"


def _selected_reason(row: pd.Series, cohort_word: str) -> str:
    who = "interviewed " if row["population"] == "interviewed" else ""
    return (
        f"{who}{cohort_word} are {row['lift']:.1f}x as likely as the rest to have it "
        f"(95% CI {row['lift_low']:.1f}-{row['lift_high']:.1f}); "
        f"{row['coverage']:.0%} of them do; {_fmt_q(row['q_value'])}; "
        f"kept in {row['stability']:.0%} of resamples"
    )


class TraitSelector(BaseEstimator):
    """Choose at most ``max_traits`` traits with honest evidence (see the module docstring).

    Parameters
    ----------
    traits : sequence of TraitDef, optional
        Definitions of the matrix columns (kind, label); without them every
        column is treated as a firmographic trait named by its id.
    max_traits : int
        Most traits kept (who and why together).
    q_threshold : float
        Largest Benjamini-Hochberg q-value a selected trait may have.
    min_stability : float
        Smallest share of bootstrap resamples in which the trait must pass.
    n_bootstrap : int
        Bootstrap resamples for stability.
    bootstrap_max_accounts : int or None
        Accounts drawn per resample at most (``traits.bootstrap_max_accounts``;
        see :func:`icp_helpers.traits.evidence.bootstrap_stability`).
    random_state : int, RandomState or None
        Seeds the bootstrap (resolved in :meth:`fit`).
    select_kinds : tuple of str
        Kinds that may be selected.
    min_lift : float
        Lift the lower end of a trait's 95% CI must reach, on its own and
        given the traits kept before it.
    max_phi : float
        Association at or above which two traits count as the same thing.
    cohort_word : str
        How reasons name the cohort ("best customers", "negative accounts").
    max_auc, max_lift_low : float
        Separation at which a trait is flagged as possible leakage (see Guards).
    confirmed_leakage : sequence of str
        Trait ids confirmed as real despite near-perfect separation.

    Attributes
    ----------
    evidence_ : DataFrame
        The evidence table (:func:`icp_helpers.traits.evidence.trait_evidence`)
        with ``status``, ``reason`` and ``rank`` columns.
    selected_ : DataFrame
        The evidence rows of the selected traits, in impact order.
    rejected_ : DataFrame
        ``trait``, ``label``, ``kind``, ``status``, ``reason`` of the others.
    insufficient_ : DataFrame
        The rejected traits that were over-represented but failed the
        q-value or stability test.
    leakage_ : DataFrame
        Evidence rows of the traits flagged as possible leakage.
    weaker_fit_ : DataFrame
        Evidence rows of the traits clearly under-represented in the cohort.
    support_ : ndarray of bool
        Which input columns were selected.
    traits_ : list of TraitDef
        Definitions of the selected traits, in impact order.
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    """

    def __init__(
        self,
        *,
        traits: Sequence[TraitDef] | None = None,
        max_traits: int = 10,
        q_threshold: float = 0.05,
        min_stability: float = 0.6,
        n_bootstrap: int = 200,
        bootstrap_max_accounts: int | None = None,
        random_state=None,
        select_kinds: tuple[str, ...] = SELECTABLE_KINDS,
        min_lift: float = 1.2,
        max_phi: float = 0.7,
        cohort_word: str = "best customers",
        max_auc: float = 0.95,
        max_lift_low: float = 20.0,
        confirmed_leakage: Sequence[str] = (),
    ):
        self.traits = traits
        self.max_traits = max_traits
        self.q_threshold = q_threshold
        self.min_stability = min_stability
        self.n_bootstrap = n_bootstrap
        self.bootstrap_max_accounts = bootstrap_max_accounts
        self.random_state = random_state
        self.select_kinds = select_kinds
        self.min_lift = min_lift
        self.max_phi = max_phi
        self.cohort_word = cohort_word
        self.max_auc = max_auc
        self.max_lift_low = max_lift_low
        self.confirmed_leakage = confirmed_leakage

    def fit(self, X: pd.DataFrame, y, *, interviewed=None) -> TraitSelector:
        """Compute the evidence and select.

        Parameters
        ----------
        X : DataFrame of bool
            Accounts x trait ids (:func:`icp_helpers.traits.traits.trait_matrix`).
        y : array of bool
            The cohort: best customers (or the negative cohort).
        interviewed : array of bool, optional
            Interviewed accounts; interview codes are judged on them only.
        """
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X, dtype=bool)).rename(columns=str)
        yv = np.asarray(y, dtype=bool)
        if len(yv) != len(X):
            raise ValueError(f"y has {len(yv)} rows but X has {len(X)}")
        if not 1 <= self.max_traits:
            raise ValueError("max_traits must be at least 1")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        by_id = {t.id: t for t in self.traits or ()}
        evidence = trait_evidence(
            X,
            yv,
            traits=self.traits,
            interviewed=interviewed,
            n_bootstrap=self.n_bootstrap,
            random_state=seed,
            q_threshold=self.q_threshold,
            prune=True,
            max_phi=self.max_phi,
            max_resample=self.bootstrap_max_accounts,
        )
        asked = np.ones(len(X), dtype=bool) if interviewed is None else np.asarray(
            interviewed, dtype=bool
        )
        status, reason = self._screen(evidence)
        kept: list[str] = []
        rank = {}
        banded: dict[str, str] = {}  # numeric column -> its band kept
        for i in np.flatnonzero(status == "candidate"):
            row = evidence.iloc[i]
            tid = row["trait"]
            trait = by_id.get(tid)
            column = trait.column if trait is not None and trait.op == "range" else None
            if column is not None and column in banded:
                status[i] = "redundant"
                reason[i] = (
                    f"another band of {column} ({banded[column]}) is kept: one threshold per "
                    "number, not several bands"
                )
                continue
            clash = self._redundant_with(tid, row, kept, X, yv, asked, evidence)
            if clash is not None:
                status[i], reason[i] = "redundant", clash
                continue
            if not row["stability"] >= self.min_stability:
                status[i] = "insufficient evidence"
                reason[i] = (
                    f"lift {row['lift']:.2f}, {_fmt_q(row['q_value'])}, but selected in only "
                    f"{row['stability']:.0%} of resamples (< {self.min_stability:.0%})"
                )
                continue
            if len(kept) >= self.max_traits:
                status[i] = "beyond limit"
                reason[i] = (
                    f"passes the evidence screen but ranks below the {self.max_traits} "
                    "traits kept (impact)"
                )
                continue
            kept.append(tid)
            if column is not None:
                banded[column] = tid
            rank[tid] = len(kept)
            status[i] = "selected"
            reason[i] = _selected_reason(row, self.cohort_word)
        evidence = evidence.assign(status=status, reason=reason)
        evidence["rank"] = evidence["trait"].map(rank).astype("Int64")
        self.evidence_ = evidence
        chosen = evidence["status"] == "selected"
        self.selected_ = evidence[chosen].sort_values("rank").reset_index(drop=True)
        self.rejected_ = evidence.loc[~chosen, ["trait", "label", "kind", "status", "reason"]]
        self.rejected_ = self.rejected_.reset_index(drop=True)
        self.insufficient_ = self.rejected_[
            self.rejected_["status"] == "insufficient evidence"
        ].reset_index(drop=True)
        self.leakage_ = evidence[evidence["status"] == "possible leakage"].reset_index(drop=True)
        self.weaker_fit_ = evidence[evidence["status"] == "weaker fit"].reset_index(drop=True)
        self.support_ = np.isin(self.feature_names_in_, self.selected_["trait"].to_numpy())
        self.traits_ = [
            by_id.get(tid) or TraitDef(id=tid, label=tid, kind="firmographic", column=tid, op="flag")
            for tid in self.selected_["trait"]
        ]
        return self

    def _screen(self, evidence: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        n = len(evidence)
        status = np.array(["candidate"] * n, dtype=object)
        reason = np.array([""] * n, dtype=object)
        for i, row in enumerate(evidence.itertuples(index=False)):
            if row.kind not in self.select_kinds:
                status[i] = "evidence only"
                reason[i] = (
                    "buying behaviour: prospects have no deals to show it, so it describes "
                    "best customers but is not selected"
                    if row.kind == "behaviour"
                    else f"{row.kind} traits are not selected here"
                )
            elif self._leaks(row):
                status[i] = "possible leakage"
                reason[i] = (
                    f"separates {self.cohort_word} almost perfectly: single-trait AUC "
                    f"{max(row.auc, 1 - row.auc):.2f}, lift {row.lift:.1f} (95% CI "
                    f"{row.lift_low:.1f}-{row.lift_high:.1f}), held by {row.best_with} of "
                    f"{row.n_best} {self.cohort_word} and {row.rest_with} of {row.n_rest} others; "
                    "likely an outcome or a restatement of the value rule. If it is a real "
                    f"trait, confirm it with traits.confirm_leakage: [{row.trait}]"
                )
            elif (
                row.lift < 1
                and row.q_value <= self.q_threshold
                and row.lift_high <= 1 / self.min_lift
            ):
                status[i] = "weaker fit"
                reason[i] = (
                    f"{self.cohort_word} are {row.lift:.2f}x as likely as the rest to have it "
                    f"(95% CI {row.lift_low:.2f}-{row.lift_high:.2f}); {_fmt_q(row.q_value)}: "
                    f"{row.best_with} of {row.n_best} {self.cohort_word} vs {row.rest_with} of "
                    f"{row.n_rest} others"
                )
            elif np.isnan(row.lift):
                status[i] = "not over-represented"
                reason[i] = (
                    f"no lift: nobody or everybody has it, or there are no {self.cohort_word}"
                )
            elif not row.lift > 1:
                status[i] = "not over-represented"
                reason[i] = f"lift {row.lift:.2f}: not more common among {self.cohort_word}"
            elif not row.q_value <= self.q_threshold:
                status[i] = "insufficient evidence"
                reason[i] = (
                    f"lift {row.lift:.2f} but {_fmt_q(row.q_value)} > {self.q_threshold} "
                    f"after multiple-testing correction ({row.best_with} of {row.n_best} "
                    f"{self.cohort_word})"
                )
            elif not row.lift_low >= self.min_lift:
                status[i] = "insufficient evidence"
                reason[i] = (
                    f"lift {row.lift:.2f}, {_fmt_q(row.q_value)}, but the 95% CI "
                    f"({row.lift_low:.2f}-{row.lift_high:.2f}) does not rule out a lift below "
                    f"{self.min_lift}"
                )
        return status, reason

    def _leaks(self, row) -> bool:
        if row.trait in set(self.confirmed_leakage or ()):
            return False
        auc = getattr(row, "auc", np.nan)
        separation = max(auc, 1 - auc) if np.isfinite(auc) else 0.0
        return bool(separation >= self.max_auc or (np.isfinite(row.lift_low) and row.lift_low >= self.max_lift_low))

    def _redundant_with(self, tid, row, kept, X, y, asked, evidence) -> str | None:
        population = row["population"]
        x = X[tid].to_numpy(dtype=bool)
        mask = asked if population == "interviewed" else np.ones(len(x), dtype=bool)
        info = evidence.set_index("trait")[["population", "evidence"]]
        peers = [
            other for other in kept
            if info.loc[other, "population"] == population
            and info.loc[other, "evidence"] == row["evidence"]
        ]
        if not peers:
            return None
        G = X[peers].to_numpy(dtype=bool)[mask]
        xm, ym = x[mask], y[mask]
        verdict = redundancy(xm, G, ym, max_phi=self.max_phi, min_lift=self.min_lift)
        if verdict is None:
            return None
        if verdict["why"] == "phi":
            return (
                f"redundant with {peers[verdict['index']]}: the two mark the same accounts "
                f"(phi {verdict['phi']:.2f})"
            )
        # Name the kept trait that explains most of the lift on its own.
        alone = [conditional_lift(xm, G[:, j], ym)[0] for j in range(len(peers))]
        other = peers[int(np.nanargmin(alone))] if not np.all(np.isnan(alone)) else peers[0]
        lift, low, high = verdict["lift"], verdict["low"], verdict["high"]
        shown = "undefined" if np.isnan(lift) else f"{lift:.2f} (95% CI {low:.2f}-{high:.2f})"
        return (
            f"redundant given the traits kept before it (mostly {other}): its lift of "
            f"{row['lift']:.2f} falls to {shown} once they are accounted for"
        )

    def get_support(self, indices: bool = False) -> np.ndarray:
        """Mask (or indices) of the selected input columns."""
        return np.flatnonzero(self.support_) if indices else self.support_

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The selected trait columns of ``X``, in impact order."""
        return X[list(self.selected_["trait"])]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(list(self.selected_["trait"]), dtype=object)


def negative_icp(
    matrix: pd.DataFrame,
    is_negative,
    *,
    traits: Sequence[TraitDef] | None = None,
    max_traits: int = 10,
    q_threshold: float = 0.05,
    min_stability: float = 0.6,
    n_bootstrap: int = 200,
    bootstrap_max_accounts: int | None = None,
    random_state=0,
    min_lift: float = 1.2,
    confirmed_leakage: Sequence[str] = (),
    best_evidence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Disqualifiers: who-traits over-represented among churned or mostly-lost accounts.

    A trait is never on both sides of the card. With ``best_evidence`` (the
    best-customer selector's ``evidence_``), a trait that is not less common
    among the best customers than among the rest (best-vs-rest lift of 1 or
    more, e.g. a selected priority trait) is not a disqualifier: the
    evidence on the best customers, the question the ICP answers, decides,
    and the reason says so (status ``both sides``).

    Returns
    -------
    DataFrame
        The evidence table for the negative cohort (who-traits only) with
        ``status``, ``reason``, ``rank`` and a boolean ``disqualifier``
        column marking the selected traits.
    """
    who = [t.id for t in traits or () if t.kind in WHO_KINDS] if traits else list(matrix.columns)
    selector = TraitSelector(
        traits=traits,
        max_traits=max_traits,
        q_threshold=q_threshold,
        min_stability=min_stability,
        n_bootstrap=n_bootstrap,
        bootstrap_max_accounts=bootstrap_max_accounts,
        random_state=random_state,
        select_kinds=WHO_KINDS,
        cohort_word="negative accounts",
        min_lift=min_lift,
        confirmed_leakage=confirmed_leakage,
    ).fit(matrix[who], is_negative)
    table = selector.evidence_.copy()
    table["disqualifier"] = table["status"] == "selected"
    if best_evidence is not None and len(table):
        on_best = best_evidence.set_index("trait")
        for i in np.flatnonzero(table["disqualifier"].to_numpy()):
            tid = table.at[i, "trait"]
            if tid not in on_best.index:
                continue
            best = on_best.loc[tid]
            if not best["lift"] >= 1:
                continue
            side = "a priority trait" if best.get("status") == "selected" else "not rarer among them"
            table.at[i, "disqualifier"] = False
            table.at[i, "status"] = "both sides"
            table.at[i, "reason"] = (
                f"more common among negative accounts (lift {table.at[i, 'lift']:.2f}), but "
                f"{best['best_with']} of {best['n_best']} best customers have it "
                f"({best['prevalence_best']:.0%} vs {best['prevalence_rest']:.0%} of the rest, "
                f"lift {best['lift']:.2f}): {side}, so it is not a disqualifier"
            )
    return table


def penalty_traits(
    selector: TraitSelector,
    negative: pd.DataFrame | None = None,
    *,
    kinds: Sequence[str] = WHO_KINDS,
    traits: Sequence[TraitDef] | None = None,
) -> list[TraitDef]:
    """The traits that may cost points (``traits.weaker_fit_points``): weaker fit and disqualifiers.

    Both are who-traits of ``kinds``; the fit score keeps a penalty only
    when its own odds ratio on the best customers is below 1
    (:class:`icp_helpers.traits.fitscore.FitScorer`).
    """
    by_id = {t.id: t for t in [*(traits or ()), *(selector.traits or ())]}
    ids = list(getattr(selector, "weaker_fit_", pd.DataFrame(columns=["trait"]))["trait"])
    if negative is not None and "disqualifier" in negative:
        ids += list(negative.loc[negative["disqualifier"].fillna(False).astype(bool), "trait"])
    chosen = set(selector.selected_["trait"])
    out = []
    for tid in dict.fromkeys(ids):
        trait = by_id.get(tid)
        if trait is not None and trait.kind in kinds and tid not in chosen:
            out.append(trait)
    return out


def disqualifier_traits(negative: pd.DataFrame | None, traits: Sequence[TraitDef]) -> list[TraitDef]:
    """The definitions of the disqualifiers of :func:`negative_icp` (for the fit score's tiers)."""
    if negative is None or "disqualifier" not in negative:
        return []
    by_id = {t.id: t for t in traits}
    ids = negative.loc[negative["disqualifier"].fillna(False).astype(bool), "trait"]
    return [by_id[tid] for tid in ids if tid in by_id]


def weaker_fit_markdown(selector: TraitSelector, *, limit: int = 10) -> str:
    """The weaker-fit traits in one paragraph: clearly rarer among the best customers."""
    rows = selector.weaker_fit_[selector.weaker_fit_["kind"] != "code"].sort_values("lift")
    if rows.empty:
        return "No who-trait is clearly rarer among the best customers than among the rest."
    items = "; ".join(
        f"**{r.label}** (lift {r.lift:.2f}, 95% CI {r.lift_low:.2f}-{r.lift_high:.2f})"
        for r in rows.head(limit).itertuples()
    )
    return (
        f"Weaker fit (clearly rarer among the best customers; the upper end of the lift "
        f"interval at most {1 / selector.min_lift:.2f}): {items}."
    )


def _evidence_numbers(row: pd.Series) -> dict:
    keys = (
        "prevalence_best", "prevalence_rest", "coverage", "lift", "lift_low", "lift_high",
        "p_value", "q_value", "stability", "impact", "best_with", "n_best", "rest_with",
        "n_rest", "population",
    )
    return {k: row[k] for k in keys}


def selection_record(
    selector: TraitSelector,
    *,
    scorer=None,
    negative: pd.DataFrame | None = None,
    validation: pd.DataFrame | None = None,
    quarter: str | None = None,
    warnings: Sequence[str] = (),
) -> dict:
    """The content of ``selection.json``.

    Parameters
    ----------
    selector : TraitSelector
        Fitted on the best customers.
    scorer : FitScorer, optional
        Fitted fit score; adds points per trait, tier cut-offs and the score
        definition (:meth:`icp_helpers.traits.fitscore.FitScorer.to_dict`).
    negative : DataFrame, optional
        :func:`negative_icp` output; its disqualifiers are listed.
    validation : DataFrame, optional
        The backtest metrics (:func:`icp_helpers.traits.validation.backtest`).
    quarter : str, optional
    warnings : sequence of str
        E.g. the interview skew warning.
    """
    points = scorer.points_ if scorer is not None else {}
    by_id = {t.id: t for t in selector.traits_}
    selected, why = [], []
    for _, row in selector.selected_.iterrows():
        trait = by_id[row["trait"]]
        item = {
            "id": trait.id,
            "label": trait.label,
            "kind": trait.kind,
            "rank": int(row["rank"]),
            "reason": row["reason"],
            "points": points.get(trait.id),
            "evidence": _evidence_numbers(row),
            "definition": trait.to_dict(),
        }
        (why if trait.kind == "code" else selected).append(item)
    behaviour = buying_behaviour(selector)
    record = {
        "quarter": quarter,
        "rule": {
            "max_traits": selector.max_traits,
            "q_threshold": selector.q_threshold,
            "min_stability": selector.min_stability,
            "n_bootstrap": selector.n_bootstrap,
            "bootstrap_max_accounts": selector.bootstrap_max_accounts,
            "min_lift": selector.min_lift,
            "leakage": f"single-trait AUC >= {selector.max_auc} or lift CI from "
            f"{selector.max_lift_low:g}: not selected unless confirmed",
            "ranking": "impact = coverage x ln(lift)",
            "redundancy": f"phi >= {selector.max_phi} with a kept trait, or a Mantel-Haenszel "
            "lift given the kept traits whose 95% CI reaches 1",
        },
        "selected": selected,
        "why_traits": why,
        "buying_behaviour": [
            {"id": r.trait, "label": r.label, "lift": r.lift, "coverage": r.prevalence_best}
            for r in behaviour.itertuples()
        ],
        "insufficient_evidence": [
            {"id": r.trait, "label": r.label, "kind": r.kind, "reason": r.reason}
            for r in selector.insufficient_.itertuples()
        ],
        "redundant": [
            {"id": r.trait, "label": r.label, "reason": r.reason}
            for r in selector.rejected_[selector.rejected_["status"] == "redundant"].itertuples()
        ],
        "possible_leakage": [
            {"id": r.trait, "label": r.label, "kind": r.kind, "auc": r.auc, "lift": r.lift,
             "lift_low": r.lift_low, "lift_high": r.lift_high, "best_with": int(r.best_with),
             "n_best": int(r.n_best), "rest_with": int(r.rest_with), "n_rest": int(r.n_rest),
             "reason": r.reason}
            for r in getattr(selector, "leakage_", pd.DataFrame(columns=["trait"])).itertuples()
        ],
        "weaker_fit": [
            {"id": r.trait, "label": r.label, "kind": r.kind, "lift": r.lift,
             "lift_low": r.lift_low, "lift_high": r.lift_high, "q_value": r.q_value,
             "points": points.get(r.trait), "reason": r.reason}
            for r in getattr(selector, "weaker_fit_", pd.DataFrame(columns=["trait"])).itertuples()
            if r.kind != "code"
        ],
        "warnings": list(warnings),
    }
    if negative is not None:
        dis = negative[negative["disqualifier"]]
        record["negative_icp"] = [
            {"id": r.trait, "label": r.label, "lift": r.lift, "q_value": r.q_value,
             "reason": r.reason}
            for r in dis.itertuples()
        ]
    if validation is not None:
        keep = ["model", "auc", "top_decile_lift", "auc_vs_ceiling", "lift_vs_ceiling",
                "selection_quarter", "test_quarters", "n_accounts", "n_best_later"]
        record["validation"] = validation[[c for c in keep if c in validation]].to_dict("records")
    if scorer is not None:
        score = scorer.to_dict()
        record["tier_cutoffs"] = score["cutoffs"]
        record["score"] = score
    return record


def buying_behaviour(selector: TraitSelector) -> pd.DataFrame:
    """Behaviour traits that mark the best customers (evidence only, not selected).

    Same screen as the selected traits, minus the redundancy pruning:
    significant, clearly over-represented and stable.
    """
    ev = selector.evidence_
    keep = (
        (ev["kind"] == "behaviour")
        & (ev["q_value"] <= selector.q_threshold)
        & (ev["lift_low"] >= selector.min_lift)
        & (ev["stability"] >= selector.min_stability)
    )
    return ev.loc[keep, ["trait", "label", "prevalence_best", "prevalence_rest", "lift",
                         "lift_low", "lift_high", "q_value", "stability"]].reset_index(drop=True)


def evidence_view(evidence: pd.DataFrame, *, top: int | None = 30) -> pd.DataFrame:
    """The evidence table's reading columns, rounded, strongest first."""
    columns = ["trait", "kind", "population", "prevalence_best", "prevalence_rest", "lift",
               "lift_low", "lift_high", "q_value", "stability", "impact", "status"]
    view = evidence[[c for c in columns if c in evidence]].copy()
    view = view.head(top) if top else view
    numbers = view.select_dtypes("number").columns
    view[numbers] = view[numbers].round(3)
    return view.reset_index(drop=True)


def chosen_markdown(selector: TraitSelector) -> str:
    """The selected traits as a numbered Markdown list, one line of evidence each."""
    if selector.selected_.empty:
        return (
            "No trait has enough evidence this quarter: see the insufficient-evidence list "
            "below. The fit score has no points to give."
        )
    lines = []
    for row in selector.selected_.itertuples():
        use = "why, not scored" if row.kind == "code" else f"{row.kind}, scored"
        lines.append(f"{row.rank}. **{row.label}** (`{row.trait}`, {use}): {row.reason}.")
    return "\n".join(lines)


def not_chosen(selector: TraitSelector) -> pd.DataFrame:
    """Traits that were over-represented but not selected, with the reason."""
    statuses = ("possible leakage", "insufficient evidence", "redundant", "beyond limit")
    ev = selector.evidence_
    table = ev.loc[ev["status"].isin(statuses),
                   ["trait", "kind", "lift", "q_value", "stability", "status", "reason"]]
    return table.round({"lift": 2, "q_value": 4, "stability": 2}).reset_index(drop=True)


def negative_markdown(table: pd.DataFrame, is_negative) -> str:
    """The negative ICP in one sentence: cohort size and the disqualifiers found."""
    n = int(np.asarray(is_negative, dtype=bool).sum())
    if n == 0:
        return "No account churned or lost most of its deals in the window: no negative ICP."
    found = table[table["disqualifier"]]
    if found.empty:
        return f"{n} accounts in the negative cohort; no who-trait marks them with enough evidence."
    items = "; ".join(
        f"**{r.label}** ({r.lift:.1f}x as common, 95% CI {r.lift_low:.1f}-{r.lift_high:.1f})"
        for r in found.itertuples()
    )
    return f"{n} accounts in the negative cohort. Disqualifiers: {items}."


def plot_forest(evidence: pd.DataFrame, *, top: int = 25, min_lift: float | None = 1.2, ax=None):
    """Forest plot: lift with its 95% CI per trait, selected traits highlighted.

    Shows the ``top`` traits by impact (plus every selected one), on a log
    axis with the no-effect line at 1 and the ``min_lift`` line (dotted) the
    lower end of a selected trait's interval must reach.
    """
    import matplotlib.pyplot as plt

    table = evidence.copy()
    if "status" not in table:
        table["status"] = ""
    shown = table[(table.index < top) | (table["status"] == "selected")]
    shown = shown.iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3, 0.28 * len(shown) + 1)))
    y = np.arange(len(shown))
    colours = np.where(shown["status"] == "selected", "tab:green", "tab:gray")
    lift = shown["lift"].to_numpy(dtype=float)
    low = shown["lift_low"].to_numpy(dtype=float)
    high = shown["lift_high"].to_numpy(dtype=float)
    ax.hlines(y, low, high, colors=colours, linewidth=2)
    ax.scatter(lift, y, c=colours, zorder=3, s=24)
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    if min_lift is not None:
        ax.axvline(min_lift, color="tab:green", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(
        [f"{t}{' (interviews)' if p == 'interviewed' else ''}"
         for t, p in zip(shown["trait"], shown["population"], strict=True)],
        fontsize=8,
    )
    ax.set_xlabel("lift: prevalence among best / among the rest (95% CI, log scale)")
    ax.set_title("Lift per trait (green: selected; dotted: minimum lift)")
    return ax


def plot_stability(evidence: pd.DataFrame, *, min_stability: float = 0.6, top: int = 25, ax=None):
    """Bar chart of bootstrap stability for the top traits by impact, with the threshold."""
    import matplotlib.pyplot as plt

    shown = evidence.head(top).iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3, 0.28 * len(shown) + 1)))
    status = shown["status"] if "status" in shown else pd.Series("", index=shown.index)
    colours = np.where(status == "selected", "tab:green", "tab:gray")
    ax.barh(np.arange(len(shown)), shown["stability"].fillna(0), color=colours)
    ax.axvline(min_stability, color="black", linestyle="--", linewidth=0.8)
    ax.set_yticks(np.arange(len(shown)))
    ax.set_yticklabels(shown["trait"], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of bootstrap resamples in which the trait passes")
    ax.set_title("Stability (dashed: minimum to be selected)")
    return ax
