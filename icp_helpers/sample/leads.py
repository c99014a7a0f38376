"""The sample's web leads and their activities, converting after the planted lead effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .phrases import LEAD_EFFECTS, LEAD_INTERCEPT, LEAD_SOURCES, LEAD_TITLES, PAGES
from .world import N_LEADS, SAMPLE_END, SAMPLE_START, _choice

__all__ = ["ACTIVITY_DETAILS"]


# --------------------------------------------------------------------------
# leads and web activity
# --------------------------------------------------------------------------


ACTIVITY_DETAILS = {
    "page_visit": {p: 1.0 for p in PAGES},
    "key_page_visit": {"pricing": 0.45, "wholesale-terms": 0.3, "contact": 0.25},
    "download": {"catalogue": 0.35, "price-list": 0.3, "recipe-ebook": 0.35},
    "form_submission": {"contact-form": 0.4, "quote-request": 0.35, "sample-request": 0.25},
    "video_view": {"harvest-film": 0.5, "how-we-press": 0.5},
    "newsletter_signup": {"": 1.0},
    "email_click": {"spring-harvest": 0.3, "new-organic-range": 0.3, "christmas-gifts": 0.4},
    "unsubscribe": {"": 1.0},
}


def _leads(rng: np.random.Generator, hidden: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leads and their web activity; conversion follows the planted per-event log-odds."""
    n = N_LEADS
    start_min = int(SAMPLE_START.value // 60_000_000_000)
    span_days = (SAMPLE_END - pd.Timedelta(days=30) - SAMPLE_START).days
    created = (
        start_min
        + rng.integers(0, span_days, size=n) * 1440
        + rng.integers(7 * 60, 21 * 60, size=n)
    )
    level = np.array(_choice(rng, {"senior": 0.3, "mid": 0.4, "junior": 0.3}, size=n))
    title = np.array(
        [LEAD_TITLES[lv][rng.integers(len(LEAD_TITLES[lv]))] for lv in level], dtype=object
    )
    u = rng.normal(0, 1, size=n)
    newsletter = (rng.random(n) < 0.22).astype(np.int64)
    counts = {
        "page_visit": rng.poisson(np.exp(0.9 + 0.3 * u)),
        "key_page_visit": rng.poisson(np.exp(-1.1 + 0.5 * u)),
        "download": rng.poisson(np.exp(-1.2 + 0.5 * u)),
        "form_submission": rng.poisson(np.exp(-1.9 + 0.5 * u)),
        "video_view": rng.poisson(0.35, size=n),
        "newsletter_signup": newsletter,
        "email_click": rng.poisson(0.8, size=n),
        "unsubscribe": ((newsletter == 1) & (rng.random(n) < 0.25) | (rng.random(n) < 0.03)).astype(
            np.int64
        ),
    }
    counts["page_visit"] = np.where(sum(counts.values()) == 0, 1, counts["page_visit"])

    frames = []
    for activity, c in counts.items():
        lead = np.repeat(np.arange(n), c)
        detail = np.array(_choice(rng, ACTIVITY_DETAILS[activity], size=len(lead)), dtype=object)
        offset = rng.integers(0, 75 * 1440, size=len(lead))
        frames.append(
            pd.DataFrame(
                {
                    "lead": lead,
                    "minute": created[lead] + offset,
                    "activity": activity,
                    "detail": detail,
                }
            )
        )
    events = pd.concat(frames, ignore_index=True)
    # an unsubscribe is the lead's last event
    last = events.groupby("lead")["minute"].max()
    is_unsub = events["activity"].eq("unsubscribe")
    events.loc[is_unsub, "minute"] = last.reindex(events.loc[is_unsub, "lead"]).to_numpy() + 5
    end_min = int((SAMPLE_END + pd.Timedelta(hours=23)).value // 60_000_000_000)
    events["minute"] = events["minute"].clip(upper=end_min)

    is_dl = events["activity"].eq("download")
    buying_dl = (
        (is_dl & events["detail"].isin(["price-list", "catalogue"])).groupby(events["lead"]).sum()
    )
    recipe_dl = (is_dl & events["detail"].eq("recipe-ebook")).groupby(events["lead"]).sum()
    e = LEAD_EFFECTS
    logit = (
        LEAD_INTERCEPT
        + counts["form_submission"]
        * (
            e["form_submission"]
            + np.where(level == "senior", e["form_submission_senior_extra"], 0.0)
        )
        + counts["key_page_visit"] * e["key_page_visit"]
        + buying_dl.reindex(range(n), fill_value=0).to_numpy() * e["download_price_list_catalogue"]
        + recipe_dl.reindex(range(n), fill_value=0).to_numpy() * e["download_recipe_ebook"]
        + counts["page_visit"] * e["page_visit"]
        + counts["video_view"] * e["video_view"]
        + counts["newsletter_signup"] * e["newsletter_signup"]
        + counts["email_click"] * e["email_click"]
        + counts["unsubscribe"] * e["unsubscribe"]
    )
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    last = events.groupby("lead")["minute"].max().reindex(range(n)).to_numpy()
    conv_min = np.minimum(last + rng.integers(1, 30, size=n) * 1440, end_min)

    def stamp(minutes, fmt):
        return pd.to_datetime(np.asarray(minutes, dtype="int64"), unit="m").strftime(fmt)

    ids = np.array([f"L{i + 1:05d}" for i in range(n)])
    activities = (
        pd.DataFrame(
            {
                "lead_id": ids[events["lead"].to_numpy()],
                "timestamp": stamp(events["minute"], "%Y-%m-%dT%H:%M:%S"),
                "activity": events["activity"].to_numpy(),
                "detail": events["detail"].to_numpy(),
                "job_title": np.where(
                    events["activity"].eq("form_submission"), title[events["lead"].to_numpy()], ""
                ),
            }
        )
        .sort_values(["lead_id", "timestamp", "activity", "detail"], kind="mergesort")
        .reset_index(drop=True)
    )
    linked = rng.random(n) < 0.3
    account = np.where(
        linked, hidden["account_id"].to_numpy()[rng.integers(0, len(hidden), size=n)], ""
    )
    has_form = counts["form_submission"] > 0
    leads = pd.DataFrame(
        {
            "lead_id": ids,
            "created": stamp(created, "%Y-%m-%dT%H:%M:%S"),
            "converted": np.where(converted, "true", "false"),
            "converted_date": np.where(converted, stamp(conv_min, "%Y-%m-%d"), ""),
            "account_id": account,
            "job_title": np.where(has_form | linked, title, ""),
            "source": _choice(rng, LEAD_SOURCES, size=n),
        }
    )
    return leads, activities


