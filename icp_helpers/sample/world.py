"""The sample's world: the truth knobs, places, industries, products, customer groups and names, and small helpers."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
import pandas as pd

__all__ = ["AMOUNT_NOISE", "BEST_WEIGHTS", "CITIES", "COUNTRIES", "DECOY_NOTES", "FIRST_NAMES", "GROUPS", "ICP_TRAITS", "INDUSTRY_SPELLINGS", "LAST_NAMES", "NAME_PATTERNS", "NEGATIVE_NOTES", "NEW_ACCOUNT_SHARE", "N_ACCOUNTS", "N_BEST_INTERVIEWS", "N_LEADS", "N_PROSPECTS", "N_REST_INTERVIEWS", "PERSISTENT_NOISE", "PRODUCTS", "QUARTER_SHAPE", "QUESTIONS", "SAMPLE_END", "SAMPLE_QUARTER", "SAMPLE_START", "STOCK_UP_SHARE", "WHY_SHARE", "WHY_TRAITS"]


#: First and last day of the deal history.
SAMPLE_START = pd.Timestamp("2023-10-01")
SAMPLE_END = pd.Timestamp("2026-09-30")
#: The latest complete quarter of the sample, whose window the interviews follow.
SAMPLE_QUARTER = "2026Q3"

#: Planted "who" traits and the factor each multiplies the account propensity by.
ICP_TRAITS = {
    "industry=wholesaler": 2.0,
    "employees_band=10-49": 1.8,
    "city_size=large": 1.7,
    "restaurant_scene=strong": 1.7,
}
#: Planted "why" traits: codes that best customers mention far more often.
WHY_TRAITS = ("need:reliable_delivery", "need:large_shipments")

#: Share of interviewed best / other customers who mention each why-code.
WHY_SHARE = {"best": 0.7, "rest": 0.15}

#: Traits that must not be selected, and why.
DECOY_NOTES = {
    "country=Italy": "common (about 40%) with no effect on value",
    "revenue_band=1M-10M": "redundant noisy copy of employees_band=10-49 (revenue ~ employees x 110k x noise)",
    "business_type=independent": "common, no effect on value",
    "channel:trade_show": "interview code equally common among best and other customers",
    "opinion:positive": "interview code almost everyone carries",
}
#: Traits over-represented among churned accounts and lost deals.
NEGATIVE_NOTES = {
    "business_type=chain": "chains churn about three times as often and lose more deals (20% vs 7.5%)",
}

#: Noise that blurs value: account-level (persistent, log scale), per account and
#: quarter (gamma shape of the deal rate) and per deal (log-normal amount).
PERSISTENT_NOISE = 0.1
QUARTER_SHAPE = 1.0
AMOUNT_NOISE = 0.8
#: Share of one-off stock-up orders (four times the usual size).
STOCK_UP_SHARE = 0.08
#: Share of accounts that join during the deal history.
NEW_ACCOUNT_SHARE = 0.3

N_ACCOUNTS = 2000
N_LEADS = 5000
N_PROSPECTS = 300
N_BEST_INTERVIEWS = 40
N_REST_INTERVIEWS = 20
QUESTIONS = ("how_found", "why_first_buy", "pains_needs", "need_met", "opinion", "why_stay")
BEST_WEIGHTS = {"won_value": 0.5, "deal_frequency": 0.3, "referrals": 0.1, "case_study": 0.1}

# --------------------------------------------------------------------------
# Firmographics
# --------------------------------------------------------------------------

#: country -> (weight, messy spellings with weights, phone prefix, legal suffix, web tld)
COUNTRIES = {
    "Italy": (
        0.40,
        {"Italy": 0.72, "Italia": 0.18, "italy ": 0.05, "ITALY": 0.05},
        "+39",
        "S.r.l.",
        "it",
    ),
    "Germany": (0.15, {"Germany": 0.7, "Deutschland": 0.25, "germany": 0.05}, "+49", "GmbH", "de"),
    "United Kingdom": (
        0.12,
        {"United Kingdom": 0.5, "UK": 0.35, "U.K.": 0.15},
        "+44",
        "Ltd",
        "co.uk",
    ),
    "France": (0.10, {"France": 0.9, "france ": 0.1}, "+33", "SARL", "fr"),
    "Spain": (0.08, {"Spain": 0.7, "España": 0.25, "SPAIN": 0.05}, "+34", "S.L.", "es"),
    "Netherlands": (
        0.06,
        {"Netherlands": 0.6, "The Netherlands": 0.3, "Holland": 0.1},
        "+31",
        "B.V.",
        "nl",
    ),
    "Austria": (0.04, {"Austria": 0.7, "Österreich": 0.3}, "+43", "GmbH", "at"),
    "Switzerland": (0.03, {"Switzerland": 0.7, "Schweiz": 0.3}, "+41", "AG", "ch"),
    "United States": (0.02, {"United States": 0.5, "USA": 0.35, "U.S.": 0.15}, "+1", "LLC", "com"),
}

#: country -> size -> [(city, region)]
CITIES = {
    "Italy": {
        "large": [
            ("Milano", "Lombardia"),
            ("Roma", "Lazio"),
            ("Napoli", "Campania"),
            ("Torino", "Piemonte"),
        ],
        "medium": [
            ("Bologna", "Emilia-Romagna"),
            ("Firenze", "Toscana"),
            ("Verona", "Veneto"),
            ("Bari", "Puglia"),
        ],
        "small": [
            ("Lucca", "Toscana"),
            ("Alba", "Piemonte"),
            ("Matera", "Basilicata"),
            ("Cremona", "Lombardia"),
        ],
    },
    "Germany": {
        "large": [
            ("Berlin", "Berlin"),
            ("München", "Bayern"),
            ("Hamburg", "Hamburg"),
            ("Köln", "Nordrhein-Westfalen"),
        ],
        "medium": [("Freiburg", "Baden-Württemberg"), ("Münster", "Nordrhein-Westfalen")],
        "small": [("Bamberg", "Bayern"), ("Lüneburg", "Niedersachsen")],
    },
    "United Kingdom": {
        "large": [("London", "England"), ("Manchester", "England")],
        "medium": [("Edinburgh", "Scotland"), ("Bristol", "England")],
        "small": [("York", "England"), ("Bath", "England")],
    },
    "France": {
        "large": [
            ("Paris", "Île-de-France"),
            ("Lyon", "Auvergne-Rhône-Alpes"),
            ("Marseille", "Provence-Alpes-Côte d'Azur"),
        ],
        "medium": [("Bordeaux", "Nouvelle-Aquitaine"), ("Nantes", "Pays de la Loire")],
        "small": [("Annecy", "Auvergne-Rhône-Alpes"), ("Arles", "Provence-Alpes-Côte d'Azur")],
    },
    "Spain": {
        "large": [("Madrid", "Comunidad de Madrid"), ("Barcelona", "Cataluña")],
        "medium": [("Valencia", "Comunitat Valenciana"), ("Sevilla", "Andalucía")],
        "small": [("Girona", "Cataluña"), ("Ronda", "Andalucía")],
    },
    "Netherlands": {
        "large": [("Amsterdam", "Noord-Holland"), ("Rotterdam", "Zuid-Holland")],
        "medium": [("Utrecht", "Utrecht")],
        "small": [("Delft", "Zuid-Holland")],
    },
    "Austria": {
        "large": [("Wien", "Wien")],
        "medium": [("Graz", "Steiermark")],
        "small": [("Bad Ischl", "Oberösterreich")],
    },
    "Switzerland": {
        "large": [("Zürich", "Zürich")],
        "medium": [("Basel", "Basel-Stadt")],
        "small": [("Lugano", "Ticino")],
    },
    "United States": {
        "large": [("New York", "New York"), ("Boston", "Massachusetts")],
        "medium": [("Portland", "Oregon")],
        "small": [("Napa", "California")],
    },
}

#: clean industry -> messy spellings (keys are what the export shows) with weights
INDUSTRY_SPELLINGS = {
    "wholesaler": {
        "wholesaler": 0.45,
        "Wholesaler": 0.2,
        "Whole saler": 0.1,
        "wholesale ": 0.1,
        "WHOLESALER": 0.08,
        "Wholesalers": 0.07,
    },
    "distributor": {
        "distributor": 0.55,
        "Distributor": 0.2,
        "Distribution": 0.15,
        "DISTRIBUTOR ": 0.1,
    },
    "restaurant": {"restaurant": 0.5, "Restaurant": 0.2, "Restaurants": 0.2, " restaurant": 0.1},
    "hotel": {"hotel": 0.55, "Hotel": 0.15, "Hotel/Resort": 0.2, "HOTEL": 0.1},
    "retailer": {"retailer": 0.6, "Retailer": 0.15, "Retail": 0.15, "retail store": 0.1},
    "deli": {"deli": 0.55, "Deli": 0.2, "Delicatessen": 0.15, "deli ": 0.1},
    "caterer": {"caterer": 0.55, "Caterer": 0.15, "Catering": 0.2, "catering ": 0.1},
}

#: (product, unit price in EUR)
PRODUCTS = {
    "EVOO 5L tin": 48.0,
    "EVOO 20L bag-in-box": 172.0,
    "EVOO 750ml case": 96.0,
    "EVOO 500ml case": 70.0,
    "Organic EVOO 3L": 41.0,
    "Organic EVOO 750ml case": 124.0,
    "Infused oil gift set": 34.0,
}


@dataclass(frozen=True)
class _Group:
    """One planted customer segment and how its accounts buy."""

    name: str
    share: float
    industries: dict[str, float]
    employees_median: float
    employees_sigma: float
    city_size: dict[str, float]
    business_type: dict[str, float]
    deals_per_quarter: float
    deal_amount: float
    single_item: float
    products: dict[str, float]
    weekdays: tuple[float, ...]  # Monday..Friday
    hour: float
    description: str


GROUPS = (
    _Group(
        name="urban_wholesale",
        share=0.24,
        industries={"wholesaler": 0.8, "distributor": 0.2},
        employees_median=28,
        employees_sigma=0.75,
        city_size={"large": 0.72, "medium": 0.2, "small": 0.08},
        business_type={"independent": 0.55, "chain": 0.2, "cooperative": 0.25},
        deals_per_quarter=1.0,
        deal_amount=680.0,
        single_item=0.02,
        products={
            "EVOO 5L tin": 0.45,
            "EVOO 20L bag-in-box": 0.3,
            "EVOO 750ml case": 0.15,
            "Organic EVOO 3L": 0.1,
        },
        weekdays=(0.42, 0.33, 0.12, 0.08, 0.05),
        hour=8.0,
        description="Urban wholesalers and distributors: large cities, 10-250 staff, "
        "big early-week orders of tins and bag-in-box, placed first thing in the morning.",
    ),
    _Group(
        name="restaurants_hotels",
        share=0.34,
        industries={"restaurant": 0.65, "hotel": 0.35},
        employees_median=18,
        employees_sigma=0.9,
        city_size={"large": 0.42, "medium": 0.35, "small": 0.23},
        business_type={"independent": 0.62, "chain": 0.3, "cooperative": 0.08},
        deals_per_quarter=1.6,
        deal_amount=250.0,
        single_item=0.15,
        products={"EVOO 5L tin": 0.5, "EVOO 750ml case": 0.3, "Organic EVOO 3L": 0.2},
        weekdays=(0.08, 0.1, 0.17, 0.35, 0.3),
        hour=11.0,
        description="Restaurants and hotels: frequent small orders of 5L tins and cases, "
        "late in the week before service, mid-morning.",
    ),
    _Group(
        name="delis_retail",
        share=0.26,
        industries={"retailer": 0.5, "deli": 0.5},
        employees_median=6,
        employees_sigma=0.7,
        city_size={"large": 0.35, "medium": 0.35, "small": 0.3},
        business_type={"independent": 0.78, "chain": 0.12, "cooperative": 0.1},
        deals_per_quarter=0.7,
        deal_amount=2000.0,
        single_item=0.6,
        products={
            "EVOO 750ml case": 0.3,
            "Organic EVOO 750ml case": 0.3,
            "EVOO 500ml case": 0.2,
            "Infused oil gift set": 0.2,
        },
        weekdays=(0.05, 0.35, 0.4, 0.15, 0.05),
        hour=14.0,
        description="Delis and retailers: small shops ordering bottled cases and gift sets "
        "for the shelf, mid-week in the afternoon, often a single item.",
    ),
    _Group(
        name="caterers",
        share=0.16,
        industries={"caterer": 1.0},
        employees_median=15,
        employees_sigma=0.8,
        city_size={"large": 0.4, "medium": 0.4, "small": 0.2},
        business_type={"independent": 0.7, "chain": 0.15, "cooperative": 0.15},
        deals_per_quarter=1.0,
        deal_amount=580.0,
        single_item=0.04,
        products={"EVOO 5L tin": 0.4, "Organic EVOO 3L": 0.35, "EVOO 750ml case": 0.25},
        weekdays=(0.45, 0.05, 0.05, 0.05, 0.4),
        hour=17.5,
        description="Caterers: event-driven orders of tins and organic 3L, placed on Mondays "
        "and Fridays at the end of the working day.",
    ),
)

FIRST_NAMES = {
    "Italy": [
        "Marco",
        "Giulia",
        "Luca",
        "Francesca",
        "Alessandro",
        "Chiara",
        "Matteo",
        "Sara",
        "Giorgio",
        "Elena",
    ],
    "Germany": [
        "Jonas",
        "Anna",
        "Lukas",
        "Lea",
        "Felix",
        "Laura",
        "Maximilian",
        "Julia",
        "Tobias",
        "Katrin",
    ],
    "United Kingdom": [
        "Oliver",
        "Emma",
        "Harry",
        "Sophie",
        "George",
        "Charlotte",
        "James",
        "Amelia",
    ],
    "France": ["Louis", "Camille", "Hugo", "Chloé", "Julien", "Manon", "Antoine", "Léa"],
    "Spain": ["Javier", "Lucía", "Pablo", "María", "Carlos", "Carmen", "Diego", "Elena"],
    "Netherlands": ["Daan", "Sanne", "Bram", "Lotte", "Sem", "Fleur"],
    "Austria": ["Florian", "Katharina", "Stefan", "Lena"],
    "Switzerland": ["Nico", "Mia", "Reto", "Lara"],
    "United States": ["Michael", "Emily", "David", "Olivia", "Daniel", "Grace"],
}
LAST_NAMES = {
    "Italy": [
        "Rossi",
        "Bianchi",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
        "Bruno",
        "Gallo",
        "Conti",
        "Esposito",
        "Ferrari",
    ],
    "Germany": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Wagner",
        "Becker",
        "Hoffmann",
    ],
    "United Kingdom": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Walker"],
    "France": ["Martin", "Bernard", "Dubois", "Durand", "Moreau", "Laurent", "Lefèvre", "Girard"],
    "Spain": ["García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro"],
    "Netherlands": ["de Jong", "Jansen", "de Vries", "Bakker", "Visser", "Smit"],
    "Austria": ["Gruber", "Huber", "Bauer", "Pichler"],
    "Switzerland": ["Meier", "Keller", "Brunner", "Steiner"],
    "United States": ["Johnson", "Miller", "Davis", "Clark", "Lewis", "Hall"],
}
NAME_PATTERNS = {
    "wholesaler": [
        "{last} Food Wholesale {suffix}",
        "{last} Provisions {suffix}",
        "{city} Cash & Carry",
        "{last} Olive Trade {suffix}",
    ],
    "distributor": [
        "{last} Distribution {suffix}",
        "{last} Foodservice {suffix}",
        "{city} Food Logistics",
    ],
    "restaurant": [
        "Trattoria {last}",
        "Bistro {last}",
        "Osteria del {city_word}",
        "{last}'s Kitchen",
        "Brasserie {last}",
    ],
    "hotel": [
        "Hotel {last}",
        "{city} Grand Hotel",
        "Hotel Bellavista {city}",
        "{last} Boutique Hotel",
    ],
    "retailer": ["{last} Fine Foods", "{city} Market Hall", "{last} Grocers"],
    "deli": ["{last} Delicatessen", "Deli {last}", "La Bottega di {last}"],
    "caterer": ["{last} Catering {suffix}", "{last} Events & Catering", "{city} Banqueting"],
}

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _choice(rng: np.random.Generator, options: dict, size=None):
    """Draw key(s) of ``options`` with probability proportional to their values."""
    keys = list(options)
    cum = list(accumulate(float(v) for v in options.values()))
    if size is None:
        return keys[min(bisect_right(cum, rng.random() * cum[-1]), len(keys) - 1)]
    idx = np.minimum(
        np.searchsorted(np.array(cum), rng.random(size) * cum[-1], side="right"), len(keys) - 1
    )
    return [keys[i] for i in idx]


def _slug(text: str) -> str:
    table = str.maketrans("äöüéèêàáíóúñçÉ", "aoueeeaaiouncE")
    return re.sub(r"[^a-z0-9]+", "", text.translate(table).lower())


def _date_str(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


def _quarters() -> list[pd.Timestamp]:
    return list(pd.date_range(SAMPLE_START, SAMPLE_END, freq="QS-OCT"))


