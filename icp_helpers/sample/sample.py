"""Seeded generator of the bundled sample CRM export and its ground truth.

The sample tells the story of a premium olive-oil producer selling B2B to
about 2,000 accounts (wholesalers, distributors, restaurants, hotels,
retailers, delis, caterers) from 2023Q4 to 2026Q3. Every table of the data
contract is written, together with ``truth.yml`` (and ``truth_*.csv``), which
records what was planted so that the method can be checked against it:

- value per account follows a latent propensity that the ICP traits raise
  multiplicatively (``icp_traits``), next to decoys that must not be chosen;
- interview answers carry known codes (``truth_codes.csv``), two coders
  disagree realistically, a few transcripts are in Persian;
- customer groups differ in buying behaviour (``truth_accounts.csv``);
- web activities drive lead conversion (``conversion_drivers``);
- a handful of bad deal rows are planted for the loaders to quarantine.

The output is deterministic for a seed: the same seed writes the same bytes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

__all__ = [
    "SAMPLE_START",
    "SAMPLE_END",
    "SAMPLE_QUARTER",
    "ICP_TRAITS",
    "WHY_TRAITS",
    "generate_sample",
    "write_sample",
]

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
# Interview phrase bank. Each code has several wordings; the last one or two
# use words no reasonable keyword list catches, so rule coding is good but
# not perfect. Negations mention a code's words without carrying the code.
# --------------------------------------------------------------------------

FAIRS = [
    "Cibus in Parma",
    "SIAL Paris",
    "Anuga in Cologne",
    "TuttoFood in Milan",
    "IFE London",
    "Alimentaria in Barcelona",
]
COMPETITOR_NAMES = {
    "competitor:oliveto_verde": "Oliveto Verde",
    "competitor:goldpress": "GoldPress",
    "competitor:bulk_importers": "a bulk importer",
}

PHRASES: dict[str, list[str]] = {
    "channel:trade_show": [
        "We met your team at {fair}.",
        "I first tasted your oil at your stand at {fair}.",
        "It was the trade fair: we stopped by your booth at {fair}.",
        "Our buyer came back from a trade show with your price list.",
        "We saw you at a food exhibition a few years ago.",
        "Your people were pouring samples in one of the halls at {fair}, and that is how it started.",
    ],
    "channel:referral": [
        "A colleague recommended you to us.",
        "We were referred by another customer of yours.",
        "Word of mouth, really: another chef kept raving about your oil.",
        "A friend who runs a place nearby recommended you.",
        "My brother-in-law buys from you and put us in touch.",
    ],
    "channel:web_search": [
        "I found you on Google while looking for a new olive-oil supplier.",
        "We searched online for premium EVOO suppliers and your website came up.",
        "Through your website, after an internet search.",
        "I was comparing suppliers on my laptop one evening and landed on your page.",
    ],
    "channel:sales_rep": [
        "One of your sales reps visited us.",
        "Your sales representative called us and arranged a tasting.",
        "Your account manager walked in one morning with samples.",
        "Someone from your company just showed up at our door with a bottle and a price sheet.",
    ],
    "channel:social_media": [
        "We saw your posts on Instagram.",
        "Through social media, mostly Instagram and LinkedIn.",
        "A chef we follow on Instagram was using your oil.",
        "A video of your harvest kept showing up in my feed.",
    ],
    "reason:quality": [
        "The taste was simply better than anything we had.",
        "The quality of the oil convinced us: fruity, peppery, very fresh.",
        "We did a blind tasting and yours won by far.",
        "Your oil has a flavour our customers noticed immediately.",
        "Our head chef put a drop on bread and that was the decision made.",
    ],
    "reason:price": [
        "The price was right for the volume we needed.",
        "Your prices were competitive compared with our old supplier.",
        "It was cheaper per litre than the alternatives.",
        "Good value for money, honestly.",
        "For what we were spending elsewhere, switching was a no-brainer.",
    ],
    "reason:organic": [
        "We needed certified organic oil and you had it.",
        "The organic certification was a must for our menu.",
        "Your organic and DOP labels matter to our customers.",
        "Our menu only lists produce grown without pesticides, and yours qualified.",
    ],
    "reason:tasting_samples": [
        "You sent us free samples and the team loved them.",
        "After a tasting session at our place we ordered.",
        "The sample box did the job.",
        "You let us try a few tins for a month before committing.",
    ],
    "competitor:oliveto_verde": [
        "Before you we bought from Oliveto Verde.",
        "We used to buy from Oliveto Verde, but they changed hands.",
        "We compared you with Oliveto Verde.",
    ],
    "competitor:goldpress": [
        "GoldPress was our supplier before.",
        "We had been with GoldPress for years.",
        "We compared you with GoldPress.",
    ],
    "competitor:bulk_importers": [
        "We used to buy cheap oil from a bulk importer.",
        "Before, we bought whatever the bulk importers had that month.",
        "We got our oil from a trader in the port, no brand at all.",
    ],
    "pain:reliable_delivery": [
        "Our old supplier was always late with deliveries.",
        "Deliveries kept getting delayed, and we ran out in the middle of service.",
        "Missed delivery slots were a nightmare.",
        "We had constant delays from the warehouse.",
        "We would order on Monday and see the pallet maybe the following Friday, if lucky.",
    ],
    "pain:inconsistent_quality": [
        "The quality changed from one batch to the next.",
        "Inconsistent quality: one month great, the next month rancid.",
        "Some tins tasted off.",
        "Every shipment was a lottery, you did not know what you would open.",
    ],
    "pain:price_volatility": [
        "Prices jumped every few months.",
        "Price volatility after the bad harvests hurt our margins.",
        "Planning was impossible because the price kept changing.",
        "After the drought in Spain, what we paid for a tin almost doubled in a year.",
    ],
    "pain:storage_space": [
        "We have very little storage space.",
        "Storage is tight in our kitchen, so we can't keep big stock.",
        "Our storeroom is small.",
        "Our cellar is the size of a wardrobe.",
    ],
    "need:reliable_delivery": [
        "You deliver on time, every time.",
        "Reliable deliveries: the truck comes when you say it will.",
        "On-time delivery is what we need most, and you give us that.",
        "Your deliveries are punctual, which lets us plan the week.",
        "When we order on Monday, it is in the kitchen on Wednesday morning, like clockwork.",
    ],
    "need:large_shipments": [
        "You can handle large orders, full pallets when we need them.",
        "You can ship big volumes at once.",
        "Large shipments without a fuss: we order by the pallet.",
        "We need bulk quantities and you can supply them.",
        "When we ask for three hundred tins for the summer season, you just say yes.",
    ],
    "need:consistent_quality": [
        "The quality is consistent from batch to batch.",
        "Every batch tastes the same.",
        "Consistency: the same oil every time.",
        "My cooks do not have to adjust their recipes whenever a new lot comes in.",
    ],
    "need:flexible_terms": [
        "Flexible payment terms help our cash flow.",
        "You let us pay at 60 days.",
        "Flexible terms and a low minimum order.",
        "When we had a slow winter you let us settle later.",
    ],
    "need:traceability": [
        "Full traceability from the grove to the tin.",
        "We can tell guests exactly which harvest the oil is from.",
        "The lot numbers and harvest dates make our audits easy.",
        "Our auditor loves your paperwork.",
    ],
    "opinion:positive": [
        "We love it.",
        "Excellent oil, really.",
        "Very good, our customers are happy.",
        "It is the best oil we have used.",
        "Great product.",
        "Ten out of ten from the kitchen.",
    ],
    "opinion:price_concern": [
        "It's a bit expensive, though.",
        "The price is on the high side.",
        "Honestly it's pricey compared with supermarket oil.",
        "Our accountant winces at the invoices.",
    ],
    "opinion:packaging_issue": [
        "The tins sometimes arrive dented.",
        "The packaging could be better; a few bottles leaked.",
        "The caps on the 5L tins are awkward.",
        "The boxes fall apart when they get damp.",
    ],
    "stay:reliability": [
        "You are dependable.",
        "We can count on you.",
        "You've been a reliable partner for years.",
        "In five years you have not let us down once.",
    ],
    "stay:relationship": [
        "The relationship with our account manager.",
        "We like the people on your team; they know our business.",
        "It feels like a partnership.",
        "Personal service: you pick up the phone.",
        "Your team came to our opening night.",
    ],
    "stay:pricing": [
        "The prices stay fair.",
        "Loyalty discounts keep us here.",
        "The yearly price agreement.",
        "The volume rebate at the end of the year adds up.",
    ],
    "stay:product_range": [
        "The range: tins, cases, organic, everything from one supplier.",
        "You have every format we need in your product range.",
        "We can get the 5L tins for the kitchen and gift sets for the shop from you.",
    ],
}

#: code -> sentences that use the code's words but do not carry it
NEGATIONS = {
    "pain:reliable_delivery": [
        "Delivery was never a problem for us.",
        "We never had late deliveries, to be fair.",
        "Honestly, delays were not an issue.",
    ],
    "pain:price_volatility": [
        "We did not have any issue with price.",
        "Price changes were not a concern for us.",
    ],
    "opinion:price_concern": [
        "The price is not a problem for us.",
        "Nobody here thinks it is expensive.",
    ],
    "pain:inconsistent_quality": ["Quality was never inconsistent with you."],
    "pain:storage_space": ["Storage space is not an issue, we have a big warehouse."],
    "need:large_shipments": [
        "We don't need large orders; small deliveries suit us.",
        "We never order by the pallet.",
    ],
    "opinion:packaging_issue": ["No complaints about the packaging."],
}

#: code -> the questions in whose answers its negation reads naturally
NEGATION_QUESTIONS = {
    "pain:reliable_delivery": ("pains_needs", "why_stay"),
    "pain:price_volatility": ("pains_needs",),
    "opinion:price_concern": ("opinion",),
    "pain:inconsistent_quality": ("pains_needs", "why_stay"),
    "pain:storage_space": ("pains_needs",),
    "need:large_shipments": ("need_met", "pains_needs"),
    "opinion:packaging_issue": ("opinion",),
}

FILLERS = {
    "how_found": [
        "It was quite a few years ago now.",
        "I think it was around {year}.",
        "My predecessor handled that.",
    ],
    "why_first_buy": ["We were looking for a change.", "It was the right moment for us."],
    "pains_needs": ["We are busy all year round.", "Our menu changes every season."],
    "need_met": ["You give us what we ask for, basically.", "It just works."],
    "opinion": ["It does the job.", "Nothing to add, really."],
    "why_stay": ["Why change something that works?", "Habit, partly."],
}
EMPTY_ANSWERS = {
    "how_found": "I honestly can't remember, it was before my time here.",
    "why_first_buy": "I was not involved in that decision.",
    "pains_needs": "Nothing major, really.",
    "need_met": "Hard to say.",
    "opinion": "It's fine.",
    "why_stay": "No particular reason.",
}

#: Persian wordings for the codes the Persian interviews use (standard letters;
#: the transcripts mix in Arabic ي/ك and drop some zero-width non-joiners)
PERSIAN_PHRASES = {
    "channel:trade_show": [
        "ما شما را در نمایشگاه مواد غذایی دیدیم.",
        "اولین بار در یک نمایشگاه تجاری با شما آشنا شدیم.",
    ],
    "channel:referral": [
        "یکی از همکاران شما را به ما معرفی کرد.",
        "یک دوست که رستوران دارد شما را به ما معرفی کرد.",
    ],
    "channel:web_search": ["در اینترنت جستجو کردم و سایت شما را پیدا کردم."],
    "reason:quality": ["کیفیت روغن شما خیلی بهتر بود.", "طعم روغن زیتون شما فوق‌العاده بود."],
    "reason:price": ["قیمت شما مناسب بود."],
    "pain:reliable_delivery": [
        "تأمین‌کننده قبلی همیشه دیر تحویل می‌داد.",
        "تأخیر در ارسال بزرگ‌ترین مشکل ما بود.",
    ],
    "pain:price_volatility": ["قیمت‌ها مدام تغییر می‌کرد."],
    "need:reliable_delivery": ["شما همیشه به موقع تحویل می‌دهید.", "ارسال‌ها همیشه سر وقت می‌رسد."],
    "need:large_shipments": [
        "می‌توانید سفارش‌های بزرگ را یکجا ارسال کنید.",
        "محموله‌های بزرگ را بدون دردسر می‌فرستید.",
        "ماهی ۳۰۰ حلب سفارش می‌دهیم و شما همه را با هم می‌فرستید.",
    ],
    "opinion:positive": ["ما خیلی راضی هستیم.", "روغن شما عالی است."],
    "stay:reliability": ["شما قابل اعتماد هستید."],
    "stay:relationship": ["رابطه خوبی با مدیر فروش شما داریم."],
}
PERSIAN_NEGATIONS = {
    "pain:reliable_delivery": ["هیچ‌وقت تأخیر نداشتیم."],
    "pain:price_volatility": ["با قیمت هیچ مشکلی نداشتیم."],
}
PERSIAN_FILLERS = [
    "حدود ۲۰ سال است که در این کار هستیم.",
    "رستوران ما ۴۵ صندلی دارد.",
    "سال ۱۴۰۱ شروع کردیم.",
]
PERSIAN_EMPTY = "چیز خاصی به ذهنم نمی‌رسد."

#: codebook entries: code -> (description, keywords, patterns)
CODEBOOK = {
    "channel:trade_show": (
        "Found us at a trade fair or exhibition.",
        [
            "trade fair",
            "trade show",
            "booth",
            "stand at",
            "exhibition",
            "Cibus",
            "SIAL",
            "Anuga",
            "نمایشگاه",
        ],
        [r"\bfair\b"],
    ),
    "channel:referral": (
        "Recommended by a colleague, friend or customer.",
        ["recommended", "referred", "word of mouth", "معرفی"],
        [r"\brecommend\w*"],
    ),
    "channel:web_search": (
        "Found us online through a search engine or our website.",
        ["google", "searched online", "website", "internet search", "اینترنت", "جستجو"],
        [r"\bsearch(ed|ing)?\b.{0,20}\bonline\b"],
    ),
    "channel:sales_rep": (
        "A sales representative or account manager approached them.",
        ["sales rep", "sales representative", "account manager walked", "visited us"],
        [r"\bsales (rep|representative)s?\b"],
    ),
    "channel:social_media": (
        "Saw us on social media.",
        ["instagram", "social media", "linkedin", "facebook"],
        [],
    ),
    "reason:quality": (
        "First bought for the taste or quality of the oil.",
        [
            "taste",
            "flavour",
            "flavor",
            "quality of the oil",
            "blind tasting",
            "peppery",
            "کیفیت",
            "طعم",
        ],
        [],
    ),
    "reason:price": (
        "First bought for the price or value for money.",
        ["price was right", "competitive", "cheaper", "value for money", "قیمت شما مناسب"],
        [r"\bprices? (was|were) (right|good|competitive)"],
    ),
    "reason:organic": (
        "Needed certified organic / DOP oil.",
        ["organic", "certified", "certification", "DOP"],
        [],
    ),
    "reason:tasting_samples": (
        "Samples or a tasting session led to the first order.",
        ["free samples", "sample box", "tasting session"],
        [r"\bsamples? (box|of)\b"],
    ),
    "competitor:oliveto_verde": ("Mentions the competitor Oliveto Verde.", ["Oliveto Verde"], []),
    "competitor:goldpress": ("Mentions the competitor GoldPress.", ["GoldPress", "Gold Press"], []),
    "competitor:bulk_importers": (
        "Mentions unbranded bulk importers or traders.",
        ["bulk importer", "bulk importers"],
        [],
    ),
    "pain:reliable_delivery": (
        "Late, missed or delayed deliveries from suppliers.",
        [
            "late with deliveries",
            "delayed",
            "delays",
            "missed delivery",
            "late deliveries",
            "دیر تحویل",
            "تأخیر",
        ],
        [r"\blate\b.{0,20}\bdeliver"],
    ),
    "pain:inconsistent_quality": (
        "Quality varied between batches or shipments.",
        ["inconsistent", "tasted off", "rancid", "changed from one batch"],
        [],
    ),
    "pain:price_volatility": (
        "Prices changed unpredictably.",
        ["price volatility", "prices jumped", "price kept changing", "قیمت‌ها مدام تغییر"],
        [r"\bprices?\b.{0,30}\b(jump|chang|volatil)"],
    ),
    "pain:storage_space": (
        "Little room to store stock.",
        ["storage space", "storage is tight", "storeroom"],
        [r"\bstorage\b"],
    ),
    "need:reliable_delivery": (
        "We deliver reliably and on time.",
        [
            "on time",
            "on-time",
            "punctual",
            "reliable deliveries",
            "reliable delivery",
            "به موقع",
            "سر وقت",
        ],
        [r"\bdeliver(y|ies)?\b.{0,30}\b(on time|punctual|reliab)"],
    ),
    "need:large_shipments": (
        "We handle large orders and volumes.",
        [
            "large orders",
            "big volumes",
            "large shipments",
            "by the pallet",
            "full pallets",
            "bulk quantities",
            "سفارش‌های بزرگ",
            "محموله‌های بزرگ",
        ],
        [r"\b(large|big) (orders?|volumes?|shipments?)\b"],
    ),
    "need:consistent_quality": (
        "The quality is the same from batch to batch.",
        ["consistent", "consistency", "every batch", "batch to batch"],
        [],
    ),
    "need:flexible_terms": (
        "Flexible payment terms or no minimum order.",
        ["flexible", "payment terms", "60 days", "minimum order"],
        [],
    ),
    "need:traceability": (
        "Traceability of harvest and lot.",
        ["traceability", "lot numbers", "which harvest", "harvest dates"],
        [],
    ),
    "opinion:positive": (
        "A positive opinion of the product.",
        ["love it", "excellent", "very good", "best oil", "great product", "happy", "راضی", "عالی"],
        [],
    ),
    "opinion:price_concern": (
        "Finds the product expensive.",
        ["expensive", "pricey", "high side"],
        [],
    ),
    "opinion:packaging_issue": (
        "Complaints about packaging.",
        ["dented", "packaging", "leaked", "caps"],
        [],
    ),
    "stay:reliability": (
        "Stays because we are dependable.",
        ["dependable", "count on", "reliable partner", "اعتماد"],
        [],
    ),
    "stay:relationship": (
        "Stays for the people and the relationship.",
        ["relationship", "partnership", "personal service", "people on your team", "رابطه"],
        [],
    ),
    "stay:pricing": (
        "Stays for fair prices, discounts or agreements.",
        ["prices stay fair", "loyalty discounts", "discount", "price agreement", "rebate"],
        [],
    ),
    "stay:product_range": (
        "Stays for the breadth of the range.",
        ["range", "every format", "gift sets for the shop"],
        [],
    ),
}

DIMENSIONS = {
    "channel": "discovery_channel",
    "reason": "purchase_reason",
    "pain": "pain_point",
    "need": "need_met",
    "opinion": "opinion",
    "stay": "reason_to_stay",
    "competitor": "competitor",
}

#: codes two coders disagree on most (vaguer definitions)
AMBIGUOUS_CODES = ("opinion:price_concern", "stay:relationship")

# --------------------------------------------------------------------------
# Leads
# --------------------------------------------------------------------------

LEAD_TITLES = {
    "senior": [
        "CEO",
        "Owner",
        "Managing Director",
        "Purchasing Director",
        "Founder",
        "General Manager",
        "Co-owner",
    ],
    "mid": [
        "Purchasing Manager",
        "Head Chef",
        "F&B Manager",
        "Operations Manager",
        "Store Manager",
        "Category Manager",
    ],
    "junior": [
        "Assistant",
        "Buyer",
        "Sous Chef",
        "Office Assistant",
        "Marketing Assistant",
        "Intern",
    ],
}
#: log-odds each activity adds to a lead's conversion (per event)
LEAD_EFFECTS = {
    "form_submission": 1.2,
    "form_submission_senior_extra": 1.0,
    "key_page_visit": 0.9,
    "download_price_list_catalogue": 1.0,
    "download_recipe_ebook": 0.05,
    "page_visit": 0.08,
    "video_view": 0.0,
    "newsletter_signup": 0.0,
    "email_click": 0.0,
    "unsubscribe": -0.4,
}
LEAD_INTERCEPT = -3.4
LEAD_SOURCES = {
    "web": 0.35,
    "trade_show": 0.2,
    "paid_search": 0.15,
    "referral": 0.1,
    "social": 0.1,
    "newsletter": 0.1,
}
PAGES = ["/", "/products", "/about", "/recipes", "/blog/harvest", "/our-groves", "/organic"]

CONTACT_TITLES = {
    "purchasing": [
        ("Purchasing Manager", "manager"),
        ("Head of Procurement", "director"),
        ("Buyer", "staff"),
        ("Responsabile acquisti", "manager"),
        ("Einkaufsleiter", "manager"),
        ("Purchasing assistant", "staff"),
    ],
    "owner": [
        ("Owner", "c-level"),
        ("Co-owner", "c-level"),
        ("Founder & CEO", "c-level"),
        ("Managing Director", "c-level"),
        ("Titolare", "c-level"),
    ],
    "chef": [
        ("Head Chef", "manager"),
        ("Executive Chef", "director"),
        ("Sous Chef", "staff"),
        ("Chef de cuisine", "manager"),
        ("Kitchen manager", "manager"),
    ],
    "operations": [
        ("Operations Manager", "manager"),
        ("Warehouse lead", "staff"),
        ("Logistics coordinator", "staff"),
        ("COO", "c-level"),
        ("F&B Manager", "manager"),
    ],
    "finance": [
        ("CFO", "c-level"),
        ("Finance Manager", "manager"),
        ("Accountant", "staff"),
        ("Financial Controller", "director"),
    ],
    "marketing": [
        ("Marketing Manager", "manager"),
        ("Head of Marketing", "director"),
        ("Brand manager", "manager"),
        ("Social media coordinator", "staff"),
    ],
}
ROLE_WEIGHTS = {
    "urban_wholesale": {
        "purchasing": 0.35,
        "owner": 0.2,
        "chef": 0.0,
        "operations": 0.3,
        "finance": 0.1,
        "marketing": 0.05,
    },
    "restaurants_hotels": {
        "purchasing": 0.15,
        "owner": 0.3,
        "chef": 0.35,
        "operations": 0.12,
        "finance": 0.05,
        "marketing": 0.03,
    },
    "delis_retail": {
        "purchasing": 0.2,
        "owner": 0.5,
        "chef": 0.0,
        "operations": 0.1,
        "finance": 0.05,
        "marketing": 0.15,
    },
    "caterers": {
        "purchasing": 0.2,
        "owner": 0.35,
        "chef": 0.3,
        "operations": 0.1,
        "finance": 0.05,
        "marketing": 0.0,
    },
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


# --------------------------------------------------------------------------
# accounts
# --------------------------------------------------------------------------


def _firmographics(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Clean firmographics and the planted group of ``n`` organisations."""
    group_idx = rng.choice(len(GROUPS), size=n, p=[g.share for g in GROUPS])
    countries = _choice(rng, {c: v[0] for c, v in COUNTRIES.items()}, size=n)
    rows = []
    all_industries = sorted({i for g in GROUPS for i in g.industries})
    for i in range(n):
        g = GROUPS[group_idx[i]]
        industry = _choice(rng, g.industries)
        if rng.random() < 0.06:  # an organisation that buys like its group but is filed otherwise
            industry = all_industries[rng.integers(len(all_industries))]
        median = g.employees_median * (3.0 if industry == "hotel" else 1.0)
        employees = int(max(1, round(median * np.exp(rng.normal(0, g.employees_sigma)))))
        size = _choice(rng, g.city_size)
        country = countries[i]
        city, region = CITIES[country][size][rng.integers(len(CITIES[country][size]))]
        p_strong = {"large": 0.5, "medium": 0.3, "small": 0.15}[size]
        scene = _choice(
            rng,
            {"strong": p_strong, "moderate": (1 - p_strong) * 0.6, "weak": (1 - p_strong) * 0.4},
        )
        revenue = employees * 110_000 * np.exp(rng.normal(0, 0.45))
        rows.append(
            {
                "group": g.name,
                "industry": industry,
                "employees": employees,
                "annual_revenue": float(round(revenue, -3)),
                "country": country,
                "region": region,
                "city": city,
                "city_size": size,
                "restaurant_scene": scene,
                "business_type": _choice(rng, g.business_type),
                "founded_year": int(min(2023, 2023 - rng.gamma(2.0, 9.0))),
            }
        )
    return pd.DataFrame(rows)


def _propensity(rng: np.random.Generator, firmo: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Latent value propensity: the planted traits multiply it, plus persistent noise."""
    flags = pd.DataFrame(
        {
            "industry=wholesaler": firmo["industry"].eq("wholesaler"),
            "employees_band=10-49": firmo["employees"].between(10, 49),
            "city_size=large": firmo["city_size"].eq("large"),
            "restaurant_scene=strong": firmo["restaurant_scene"].eq("strong"),
        }
    )
    log_lam = rng.normal(0, PERSISTENT_NOISE, size=len(firmo))
    for trait, factor in ICP_TRAITS.items():
        log_lam += np.log(factor) * flags[trait].to_numpy()
    return np.exp(log_lam), flags


def _messy(rng: np.random.Generator, values, spellings: dict[str, dict[str, float]]) -> list[str]:
    return [_choice(rng, spellings[v]) if v in spellings else v for v in values]


def _company_name(rng: np.random.Generator, industry: str, country: str, city: str) -> str:
    pattern = NAME_PATTERNS[industry][rng.integers(len(NAME_PATTERNS[industry]))]
    last = LAST_NAMES[country][rng.integers(len(LAST_NAMES[country]))]
    return pattern.format(
        last=last, suffix=COUNTRIES[country][3], city=city, city_word=city.split()[0]
    ).strip()


def _accounts(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accounts table (messy, as exported) and a clean frame with the hidden truth."""
    n = N_ACCOUNTS
    firmo = _firmographics(rng, n)
    lam, flags = _propensity(rng, firmo)
    ids = [f"A{i + 1:05d}" for i in range(n)]
    hidden = firmo.assign(account_id=ids, propensity=lam)
    for trait in ICP_TRAITS:
        hidden[trait] = flags[trait].to_numpy()

    # created: most before the history starts, the rest join during it
    created = []
    for _ in range(n):
        if rng.random() < 1 - NEW_ACCOUNT_SHARE:
            created.append(
                pd.Timestamp("2016-01-01") + pd.Timedelta(days=int(rng.integers(0, 2830)))
            )
        else:
            created.append(SAMPLE_START + pd.Timedelta(days=int(rng.integers(0, 960))))
    hidden["created"] = created

    # churn: chains and low-propensity accounts leave more often
    chain = hidden["business_type"].eq("chain").to_numpy()
    risk = np.where(chain, 3.0, 1.0) / np.sqrt(lam)
    p_churn = np.clip(0.10 * risk / risk.mean(), 0, 0.9)
    churned = rng.random(n) < p_churn
    churn_dates = []
    for i in range(n):
        if not churned[i]:
            churn_dates.append(pd.NaT)
            continue
        lo = max(hidden["created"][i] + pd.Timedelta(days=120), pd.Timestamp("2024-01-15"))
        span = (SAMPLE_END - pd.Timedelta(days=10) - lo).days
        if span <= 0:
            churn_dates.append(pd.NaT)
            continue
        churn_dates.append(lo + pd.Timedelta(days=int(rng.integers(0, span))))
    hidden["churned"] = churn_dates

    # referrals: older, high-propensity accounts refer newer ones
    referred_by = [""] * n
    order = np.argsort(np.array(created, dtype="datetime64[ns]"))
    weight = lam**1.5
    for rank, i in enumerate(order):
        if rank < 50 or rng.random() > 0.09:
            continue
        pool = order[:rank]
        p = weight[pool] / weight[pool].sum()
        referred_by[i] = ids[int(rng.choice(pool, p=p))]
    hidden["referred_by"] = referred_by
    case_pool = rng.choice(n, size=70, replace=False, p=lam**2 / (lam**2).sum())
    hidden["case_study"] = np.isin(np.arange(n), case_pool)

    names = [_company_name(rng, r.industry, r.country, r.city) for r in hidden.itertuples()]
    employees = hidden["employees"].astype("Int64").copy()
    employees[rng.random(n) < 0.04] = pd.NA
    revenue = hidden["annual_revenue"].copy()
    revenue[rng.random(n) < 0.04] = np.nan
    city_size = hidden["city_size"].astype(object).copy()
    city_size[rng.random(n) < 0.04] = ""

    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "name": names,
            "industry": _messy(rng, hidden["industry"], INDUSTRY_SPELLINGS),
            "employees": employees,
            "annual_revenue": revenue,
            "country": [_choice(rng, COUNTRIES[c][1]) for c in hidden["country"]],
            "region": hidden["region"],
            "city": hidden["city"],
            "city_size": city_size,
            "restaurant_scene": hidden["restaurant_scene"],
            "business_type": hidden["business_type"],
            "founded_year": hidden["founded_year"],
            "created_date": [_date_str(d) for d in hidden["created"]],
            "referred_by": referred_by,
            "case_study": np.where(hidden["case_study"], "true", "false"),
            "churned_date": ["" if pd.isna(d) else _date_str(d) for d in hidden["churned"]],
        }
    )
    return accounts, hidden


# --------------------------------------------------------------------------
# deals
# --------------------------------------------------------------------------


def _deals(rng: np.random.Generator, hidden: pd.DataFrame) -> pd.DataFrame:
    """Deals per account and quarter: Poisson counts, log-normal amounts, both propensity-driven."""
    n = len(hidden)
    group_of = {g.name: k for k, g in enumerate(GROUPS)}
    gidx = hidden["group"].map(group_of).to_numpy()
    lam = hidden["propensity"].to_numpy()
    products = list(PRODUCTS)
    unit_price = np.array([PRODUCTS[p] for p in products])
    weekday_p = np.array([np.array(g.weekdays) / sum(g.weekdays) for g in GROUPS])
    pref_day = np.array([rng.choice(5, p=weekday_p[g]) for g in gidx])
    pref_hour = np.array([GROUPS[g].hour for g in gidx]) + rng.normal(0, 0.6, size=n)
    p_lost = np.where(hidden["business_type"].eq("chain").to_numpy(), 0.2, 0.075)
    own_products = np.zeros((n, len(products)))
    for i, g in enumerate(gidx):
        base = np.array([GROUPS[g].products.get(p, 0.0) for p in products])
        mask = base > 0
        own_products[i, mask] = rng.dirichlet(base[mask] * 8)

    # account x quarter grid of active days (integer days since 1970-01-01)
    day0 = lambda ts: int(pd.Timestamp(ts).to_datetime64().astype("datetime64[D]").astype(np.int64))  # noqa: E731
    q_lo = np.array([day0(q) for q in _quarters()])
    q_hi = np.append(q_lo[1:], day0(SAMPLE_END) + 1)
    created = hidden["created"].to_numpy().astype("datetime64[D]").astype(np.int64)
    churned = hidden["churned"].to_numpy().astype("datetime64[D]")
    churned = np.where(np.isnat(churned), np.iinfo(np.int64).max, churned.astype(np.int64))
    lo = np.maximum(q_lo[None, :], created[:, None])
    hi = np.minimum(q_hi[None, :], churned[:, None])
    frac = np.clip(hi - lo, 0, None) / (q_hi - q_lo)[None, :]
    base_rate = np.array([GROUPS[g].deals_per_quarter for g in gidx]) * lam**0.6
    rate = base_rate[:, None] * rng.gamma(QUARTER_SHAPE, 1 / QUARTER_SHAPE, size=frac.shape) * frac
    count = rng.poisson(rate)
    acc_i, q_i = np.nonzero(count)
    reps = count[acc_i, q_i]
    acc = np.repeat(acc_i, reps)
    dlo, dhi = np.repeat(lo[acc_i, q_i], reps), np.repeat(hi[acc_i, q_i], reps)
    m = len(acc)

    day = dlo + (rng.random(m) * (dhi - dlo)).astype(np.int64)
    other_day = (rng.random(m)[:, None] > np.cumsum(weekday_p[gidx[acc]], axis=1)).sum(axis=1)
    weekday = np.where(rng.random(m) < 0.6, pref_day[acc], np.minimum(other_day, 4))
    day = day - (day + 3) % 7 + weekday
    day = np.where(day < dlo, day + 7, day)
    day = np.where(day >= dhi, day - 7, day)
    keep = day >= dlo
    hour = np.clip(np.round(pref_hour[acc] + rng.normal(0, 1.0, size=m)), 7, 18).astype(np.int64)
    minute = rng.integers(0, 60, size=m)
    product = (rng.random(m)[:, None] > np.cumsum(own_products[acc], axis=1)).sum(axis=1)
    product = np.minimum(product, len(products) - 1)
    unit = unit_price[product]
    single = rng.random(m) < np.array([GROUPS[g].single_item for g in gidx])[acc]
    target = (
        np.array([GROUPS[g].deal_amount for g in gidx])[acc]
        * lam[acc] ** 0.4
        * np.exp(rng.normal(0, AMOUNT_NOISE, size=m))
    )
    target = target * np.where(rng.random(m) < STOCK_UP_SHARE, 4.0, 1.0)  # one-off stock-up orders
    quantity = np.where(single, 1, np.maximum(2, np.round(target / unit))).astype(np.int64)
    discount = np.where(quantity >= 20, 0.05, 0.0)
    amount = np.round(quantity * unit * (1 - discount) * np.exp(rng.normal(0, 0.03, size=m)), 2)
    u_open, u_lost = rng.random(m), rng.random(m)
    open_cut = day0(SAMPLE_END) - 45
    stage = np.where(
        (day >= open_cut) & (u_open < 0.45), "open", np.where(u_lost < p_lost[acc], "lost", "won")
    )
    lead_days = rng.integers(2, 40, size=m)

    close = day.astype("datetime64[D]").astype("datetime64[m]") + (hour * 60 + minute).astype(
        "timedelta64[m]"
    )
    deals = pd.DataFrame(
        {
            "account_id": hidden["account_id"].to_numpy()[acc],
            "close": close,
            "amount": amount,
            "quantity": quantity,
            "product": np.array(products)[product],
            "stage": stage,
            "created": (day - lead_days).astype("datetime64[D]"),
        }
    )[keep]
    deals = deals.sort_values(["close", "account_id"], kind="mergesort").reset_index(drop=True)
    deals.insert(0, "deal_id", [f"D{i + 1:06d}" for i in range(len(deals))])
    deals["close_date"] = pd.to_datetime(deals["close"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    deals["created_date"] = pd.to_datetime(deals["created"]).dt.strftime("%Y-%m-%d")
    return deals[
        [
            "deal_id",
            "account_id",
            "close_date",
            "amount",
            "quantity",
            "product",
            "stage",
            "created_date",
        ]
    ]


def _plant_bad_deals(
    rng: np.random.Generator, deals: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict]]:
    """Corrupt a handful of deal rows the way real exports do; return them with their reason."""
    deals = deals.copy()
    won = np.flatnonzero(deals["stage"].eq("won").to_numpy())
    picks = rng.choice(won, size=10, replace=False)
    bad: list[dict] = []
    for i in picks[:5]:
        deals.loc[i, "amount"] = -deals.loc[i, "amount"]
        bad.append({"deal_id": deals.loc[i, "deal_id"], "reason": "negative amount"})
    garbage = [
        "2024-02-30T10:15:00",
        "13/31/2025 09:40",
        "TBC",
        "2025-13-07T09:00:00",
        "31.09.2024 14:00",
    ]
    for i, text in zip(picks[5:], garbage, strict=True):
        deals.loc[i, "close_date"] = text
        bad.append({"deal_id": deals.loc[i, "deal_id"], "reason": "unparseable close_date"})
    # deals booked against accounts that are not in the accounts export
    unknown = ["A02417", "A00I23", "A09999", "A2001", "A02388"]
    extra = deals.iloc[rng.choice(won, size=5, replace=False)].copy()
    extra["account_id"] = unknown
    extra["deal_id"] = [f"D{len(deals) + k + 1:06d}" for k in range(5)]
    for row in extra.itertuples():
        bad.append({"deal_id": row.deal_id, "reason": "unknown account_id"})
    # a re-exported deal: same id, row repeated later with a corrected amount
    dups = deals.iloc[rng.choice(won, size=3, replace=False)].copy()
    dups["amount"] = (dups["amount"] * 1.1).round(2)
    for row in dups.itertuples():
        bad.append({"deal_id": row.deal_id, "reason": "duplicate deal_id"})
    out = pd.concat([deals, extra, dups], ignore_index=True)
    # rows stay in file order: appended rows go to the end, like a late re-export
    row_of = {}
    for pos, deal_id in enumerate(out["deal_id"]):
        row_of.setdefault(deal_id, []).append(pos + 1)
    for item in bad:
        positions = row_of[item["deal_id"]]
        item["row"] = positions[-1] if item["reason"] == "duplicate deal_id" else positions[0]
    bad.sort(key=lambda b: b["row"])
    return out, bad


# --------------------------------------------------------------------------
# value rule (mirrors the method's default) to pick whom to interview
# --------------------------------------------------------------------------


def _value_rule(
    deals: pd.DataFrame, accounts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Best customers of a window by the default value rule (percentile-ranked, weighted).

    Eligible are accounts with a won deal in the window that had not churned
    by its end; the top 20% of all accounts are taken from them (ties: higher
    won value, then account id).
    """
    d = deals[deals["stage"].eq("won") & deals["account_id"].isin(accounts["account_id"])]
    close = pd.to_datetime(d["close_date"], errors="coerce", format="%Y-%m-%dT%H:%M:%S")
    d = d[(close >= start) & (close < end) & (d["amount"] > 0)]
    d = d.drop_duplicates("deal_id")
    agg = d.groupby("account_id").agg(
        won_value=("amount", "sum"), deal_frequency=("deal_id", "count")
    )
    out = accounts[["account_id"]].set_index("account_id").join(agg).fillna(0.0)
    referrals = accounts["referred_by"].replace("", np.nan).dropna().value_counts()
    out["referrals"] = referrals.reindex(out.index).fillna(0.0)
    out["case_study"] = accounts.set_index("account_id")["case_study"].eq("true").astype(float)
    score = sum(w * out[c].rank(pct=True) for c, w in BEST_WEIGHTS.items())
    out["value_score"] = score
    churned = pd.to_datetime(accounts.set_index("account_id")["churned_date"], errors="coerce")
    eligible = out["deal_frequency"].gt(0) & ~(churned.reindex(out.index) < end)
    n_best = int(round(0.2 * len(out)))
    ranked = (
        out[eligible]
        .reset_index()
        .sort_values(["value_score", "won_value", "account_id"], ascending=[False, False, True])
    )
    out["is_best"] = out.index.isin(ranked["account_id"].iloc[:n_best])
    return out.reset_index()


# --------------------------------------------------------------------------
# contacts
# --------------------------------------------------------------------------


def _contacts(rng: np.random.Generator, hidden: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    rows = []
    k = 0
    for acc, company in zip(hidden.itertuples(), names, strict=True):
        domain = f"{_slug(company)[:18] or 'mail'}.{COUNTRIES[acc.country][4]}"
        prefix = COUNTRIES[acc.country][2]
        used = set()
        for _ in range(1 + rng.poisson(1.0)):
            first = FIRST_NAMES[acc.country][rng.integers(len(FIRST_NAMES[acc.country]))]
            last = LAST_NAMES[acc.country][rng.integers(len(LAST_NAMES[acc.country]))]
            if (first, last) in used:
                continue
            used.add((first, last))
            role = _choice(rng, ROLE_WEIGHTS[acc.group])
            title, seniority = CONTACT_TITLES[role][rng.integers(len(CONTACT_TITLES[role]))]
            k += 1
            phone = f"{prefix} {rng.integers(10, 99)} {rng.integers(1000, 9999)} {rng.integers(1000, 9999)}"
            rows.append(
                {
                    "contact_id": f"C{k:05d}",
                    "account_id": acc.account_id,
                    "name": f"{first} {last}",
                    "email": f"{_slug(first)}.{_slug(last)}@{domain}",
                    "phone": phone,
                    "job_title": title,
                    "job_role": role,
                    "seniority": seniority,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# interviews
# --------------------------------------------------------------------------


def _interview_codes(
    rng: np.random.Generator, *, has_rd: bool, has_ls: bool, group: str
) -> dict[str, list[str]]:
    """The true codes of each of the six answers of one interview.

    ``has_rd`` and ``has_ls`` say whether the interviewee mentions the two
    planted why-codes (reliable delivery, large shipments) somewhere.
    """
    codes: dict[str, list[str]] = {q: [] for q in QUESTIONS}

    channels = {
        "channel:trade_show": 0.42,
        "channel:referral": 0.2,
        "channel:web_search": 0.15,
        "channel:sales_rep": 0.13,
        "channel:social_media": 0.1,
    }
    if rng.random() > 0.07:
        first = _choice(rng, channels)
        codes["how_found"].append(first)
        if rng.random() < 0.15:
            second = _choice(rng, {k: v for k, v in channels.items() if k != first})
            codes["how_found"].append(second)

    reasons = {
        "reason:quality": 0.5,
        "reason:price": 0.2,
        "reason:organic": 0.15,
        "reason:tasting_samples": 0.15,
    }
    if rng.random() > 0.05:
        first = _choice(rng, reasons)
        codes["why_first_buy"].append(first)
        if rng.random() < 0.3:
            codes["why_first_buy"].append(
                _choice(rng, {k: v for k, v in reasons.items() if k != first})
            )
    if rng.random() < 0.25:
        codes["why_first_buy"].append(_choice(rng, {c: 1.0 for c in COMPETITOR_NAMES}))

    pains = {
        "pain:reliable_delivery": 0.45 if has_rd else 0.15,
        "pain:inconsistent_quality": 0.3,
        "pain:price_volatility": 0.3,
        "pain:storage_space": 0.08 if group == "urban_wholesale" else 0.25,
    }
    codes["pains_needs"] = [c for c, p in pains.items() if rng.random() < p]
    if rng.random() < 0.08:
        codes["pains_needs"].append(_choice(rng, {c: 1.0 for c in COMPETITOR_NAMES}))

    stay_extra = []
    if has_rd:
        (codes["need_met"] if rng.random() < 0.85 else stay_extra).append("need:reliable_delivery")
    if has_ls:
        (codes["need_met"] if rng.random() < 0.85 else stay_extra).append("need:large_shipments")
    for code, p in (
        ("need:consistent_quality", 0.3),
        ("need:flexible_terms", 0.15),
        ("need:traceability", 0.15),
    ):
        if rng.random() < p:
            codes["need_met"].append(code)

    if rng.random() < 0.85:
        codes["opinion"].append("opinion:positive")
    if rng.random() < 0.2:
        codes["opinion"].append("opinion:price_concern")
    if rng.random() < 0.1:
        codes["opinion"].append("opinion:packaging_issue")

    stays = {
        "stay:reliability": 0.55 if has_rd else 0.35,
        "stay:relationship": 0.35,
        "stay:pricing": 0.2,
        "stay:product_range": 0.2,
    }
    codes["why_stay"] = [c for c, p in stays.items() if rng.random() < p]
    for code in stay_extra:
        codes["why_stay"].append(code)
    if has_rd and "need:reliable_delivery" not in stay_extra and rng.random() < 0.2:
        codes["why_stay"].append("need:reliable_delivery")
    if not codes["why_stay"] and rng.random() < 0.7:
        codes["why_stay"].append(_choice(rng, stays))
    return codes


def _fill(text: str, rng: np.random.Generator) -> str:
    return text.format(fair=FAIRS[rng.integers(len(FAIRS))], year=int(rng.integers(2012, 2023)))


def _english_answer(
    rng: np.random.Generator, question: str, codes: list[str], *, extra: str = ""
) -> str:
    sentences = [_fill(PHRASES[c][rng.integers(len(PHRASES[c]))], rng) for c in codes]
    negatable = [c for c in NEGATIONS if c not in codes and question in NEGATION_QUESTIONS[c]]
    if negatable and rng.random() < 0.3:
        negs = NEGATIONS[negatable[rng.integers(len(negatable))]]
        sentences.append(negs[rng.integers(len(negs))])
    if rng.random() < 0.3:
        sentences.append(_fill(FILLERS[question][rng.integers(len(FILLERS[question]))], rng))
    if extra:
        sentences.append(extra)
    if not sentences:
        return EMPTY_ANSWERS[question]
    rng.shuffle(sentences)
    opener = ["", "", "", "Honestly, ", "Well, ", "I'd say "][rng.integers(6)]
    text = " ".join(sentences)
    if opener:
        text = (
            opener + text[0].lower() + text[1:]
            if not text.startswith(("I ", "I'", "GoldPress", "Oliveto"))
            else opener + text
        )
    return text


_AR_MAP = str.maketrans({"ی": "ي", "ک": "ك"})


def _persianize(text: str, rng: np.random.Generator) -> str:
    """Mix Arabic-letter variants into Persian text and drop some zero-width non-joiners."""
    words = text.split(" ")
    out = []
    for w in words:
        if rng.random() < 0.35:
            w = w.translate(_AR_MAP)
        if "\u200c" in w and rng.random() < 0.3:
            w = w.replace("\u200c", "" if rng.random() < 0.15 else " ")
        out.append(w)
    return " ".join(out)


def _persian_codes(codes: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keep only the codes the Persian phrase bank can express."""
    return {q: [c for c in cs if c in PERSIAN_PHRASES] for q, cs in codes.items()}


def _persian_answer(rng: np.random.Generator, question: str, codes: list[str]) -> str:
    sentences = [PERSIAN_PHRASES[c][rng.integers(len(PERSIAN_PHRASES[c]))] for c in codes]
    negatable = [
        c for c in PERSIAN_NEGATIONS if c not in codes and question in NEGATION_QUESTIONS[c]
    ]
    if negatable and rng.random() < 0.4:
        sentences.append(PERSIAN_NEGATIONS[negatable[rng.integers(len(negatable))]][0])
    if rng.random() < 0.3:
        sentences.append(PERSIAN_FILLERS[rng.integers(len(PERSIAN_FILLERS))])
    if not sentences:
        return PERSIAN_EMPTY
    rng.shuffle(sentences)
    return _persianize(" ".join(sentences), rng)


def _interviews(
    rng: np.random.Generator, hidden: pd.DataFrame, best: pd.DataFrame, contacts: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame, pd.DataFrame, list[dict]]:
    """Interviews of best and other customers: CSV rows, transcripts, truth codes, interviewees, PII."""
    info = hidden.set_index("account_id")
    active = best[best["won_value"] > 0].merge(hidden[["account_id", "churned"]], on="account_id")
    active = active[active["churned"].isna()]
    best_ids = sorted(
        rng.choice(
            active.loc[active["is_best"], "account_id"], size=N_BEST_INTERVIEWS, replace=False
        )
    )
    rest_ids = sorted(
        rng.choice(
            active.loc[~active["is_best"], "account_id"], size=N_REST_INTERVIEWS, replace=False
        )
    )
    people = [(a, True) for a in best_ids] + [(a, False) for a in rest_ids]
    # exact shares of interviewees who mention the why-codes: WHY_SHARE of best, a few others
    why = {}
    for ids, share in ((best_ids, WHY_SHARE["best"]), (rest_ids, WHY_SHARE["rest"])):
        for code in WHY_TRAITS:
            chosen = set(rng.choice(ids, size=int(round(share * len(ids))), replace=False).tolist())
            why.update({(a, code): a in chosen for a in ids})
    order = rng.permutation(len(people))
    people = [people[i] for i in order]
    persian = set(rng.choice(len(people), size=5, replace=False).tolist())
    english_transcripts = set(
        rng.choice(
            [i for i in range(len(people)) if i not in persian], size=3, replace=False
        ).tolist()
    )
    pii_interviews = set(
        rng.choice(
            [i for i in range(len(people)) if i not in persian], size=6, replace=False
        ).tolist()
    )

    csv_rows, transcripts, truth_rows, roster, pii = [], {}, [], [], []
    chosen = contacts[contacts["account_id"].isin([a for a, _ in people])]
    by_account = {a: c for a, c in chosen.groupby("account_id")}
    for k, (account_id, is_best) in enumerate(people):
        interview_id = f"I{k + 1:04d}"
        group = info.loc[account_id, "group"]
        codes = _interview_codes(
            rng,
            has_rd=why[(account_id, WHY_TRAITS[0])],
            has_ls=why[(account_id, WHY_TRAITS[1])],
            group=group,
        )
        date = pd.Timestamp("2026-07-01") + pd.Timedelta(days=int(rng.integers(0, 85)))
        acct_contacts = by_account.get(account_id)
        contact = acct_contacts.iloc[int(rng.integers(len(acct_contacts)))]
        role = contact["job_role"]
        language = "fa" if k in persian else "en"
        if language == "fa":
            codes = _persian_codes(codes)
            answers = {q: _persian_answer(rng, q, codes[q]) for q in QUESTIONS}
        else:
            extras = {q: "" for q in QUESTIONS}
            if k in pii_interviews:
                kind = ["email", "phone", "name"][k % 3]
                question = ("why_stay", "need_met", "opinion")[k % 3]
                value = contact[kind]
                extras[question] = {
                    "email": f"If anything changes, write to me at {value}.",
                    "phone": f"You can always reach our kitchen on {value}.",
                    "name": f"{value} handles all our orders now.",
                }[kind]
                pii.append(
                    {
                        "interview_id": interview_id,
                        "question": question,
                        "kind": kind,
                        "value": value,
                        "contact_id": contact["contact_id"],
                    }
                )
            answers = {q: _english_answer(rng, q, codes[q], extra=extras[q]) for q in QUESTIONS}
        for q in QUESTIONS:
            for code in dict.fromkeys(codes[q]):
                truth_rows.append({"interview_id": interview_id, "question": q, "code": code})
        source = "transcript" if (k in persian or k in english_transcripts) else "csv"
        roster.append(
            {
                "interview_id": interview_id,
                "account_id": account_id,
                "is_best": is_best,
                "language": language,
                "source": source,
            }
        )
        if source == "transcript":
            body = [
                "---",
                f"interview_id: {interview_id}",
                f"account_id: {account_id}",
                f"interviewee_role: {role}",
                f"date: {_date_str(date)}",
                "---",
            ]
            for q in QUESTIONS:
                body += [f"## {q}", answers[q], ""]
            transcripts[interview_id] = "\n".join(body)
        else:
            for q in QUESTIONS:
                csv_rows.append(
                    {
                        "interview_id": interview_id,
                        "account_id": account_id,
                        "question": q,
                        "answer": answers[q],
                        "interviewee_role": role,
                        "date": _date_str(date),
                    }
                )
    return pd.DataFrame(csv_rows), transcripts, pd.DataFrame(truth_rows), pd.DataFrame(roster), pii


def _manual_codes(
    rng: np.random.Generator, truth: pd.DataFrame, roster: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two coders hand-code the same half of the interviews with realistic disagreement.

    Both coders start from the true codes. Per code, a share of its units is
    coded by only one of the two (a miss by the other), and a few units of the
    same question get the code from one coder only; the vaguer codes
    (``AMBIGUOUS_CODES``) get far more of both, so their kappa falls below 0.6.
    """
    # half the interviews, two of them Persian, so the other Persian ones are left to rule coding
    persian = roster.loc[roster["language"].eq("fa"), "interview_id"].to_numpy()
    english = roster.loc[roster["language"].ne("fa"), "interview_id"].to_numpy()
    n_persian = min(2, len(persian))
    ids = sorted(
        [
            *rng.choice(persian, size=n_persian, replace=False),
            *rng.choice(english, size=len(roster) // 2 - n_persian, replace=False),
        ]
    )
    units = [(i, q) for i in ids for q in QUESTIONS]
    true = set(truth.loc[truth["interview_id"].isin(ids)].itertuples(index=False, name=None))
    coded = {"coder_a": set(true), "coder_b": set(true)}
    coders = list(coded)
    for code in CODEBOOK:
        positives = sorted(u for u in true if u[2] == code)
        if not positives:
            continue
        ambiguous = code in AMBIGUOUS_CODES
        miss_share = rng.uniform(0.5, 0.6) if ambiguous else rng.uniform(0.05, 0.3)
        n_miss = int(round(miss_share * len(positives)))
        for k in rng.choice(len(positives), size=n_miss, replace=False):
            coded[coders[rng.integers(2)]].discard(positives[k])
        dimension = DIMENSIONS[code.split(":")[0]]
        negatives = [
            (i, q, code)
            for i, q in units
            if _QUESTION_DIMENSION[q] == dimension and (i, q, code) not in true
        ]
        n_add = int(round((0.4 if ambiguous else rng.uniform(0.0, 0.1)) * len(positives)))
        for k in rng.choice(len(negatives), size=min(n_add, len(negatives)), replace=False):
            coded[coders[rng.integers(2)]].add(negatives[k])
    out = []
    for coder in coders:
        rows = sorted(coded[coder], key=lambda u: (u[0], QUESTIONS.index(u[1]), u[2]))
        frame = pd.DataFrame(rows, columns=["interview_id", "question", "code"]).assign(coder=coder)
        out.append(frame)
    return out[0], out[1]


_QUESTION_DIMENSION = {
    "how_found": "discovery_channel",
    "why_first_buy": "purchase_reason",
    "pains_needs": "pain_point",
    "need_met": "need_met",
    "opinion": "opinion",
    "why_stay": "reason_to_stay",
}


def _codebook() -> dict:
    codes = []
    for code, (description, keywords, patterns) in CODEBOOK.items():
        examples = [_fill(PHRASES[code][0], np.random.default_rng(0))]
        if code in PERSIAN_PHRASES:
            examples.append(PERSIAN_PHRASES[code][0])
        codes.append(
            {
                "code": code,
                "dimension": DIMENSIONS[code.split(":")[0]],
                "description": description,
                "keywords": list(keywords),
                "patterns": list(patterns),
                "examples": examples,
            }
        )
    return {"codes": codes}


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


# --------------------------------------------------------------------------
# prospects
# --------------------------------------------------------------------------


def _prospects(rng: np.random.Generator) -> pd.DataFrame:
    firmo = _firmographics(rng, N_PROSPECTS)
    employees = firmo["employees"].astype("Int64").copy()
    employees[rng.random(N_PROSPECTS) < 0.05] = pd.NA
    revenue = firmo["annual_revenue"].copy()
    revenue[rng.random(N_PROSPECTS) < 0.08] = np.nan
    size = firmo["city_size"].astype(object).copy()
    size[rng.random(N_PROSPECTS) < 0.04] = ""
    return pd.DataFrame(
        {
            "prospect_id": [f"P{i + 1:04d}" for i in range(N_PROSPECTS)],
            "name": [_company_name(rng, r.industry, r.country, r.city) for r in firmo.itertuples()],
            "industry": _messy(rng, firmo["industry"], INDUSTRY_SPELLINGS),
            "employees": employees,
            "annual_revenue": revenue,
            "country": [_choice(rng, COUNTRIES[c][1]) for c in firmo["country"]],
            "city": firmo["city"],
            "city_size": size,
            "restaurant_scene": firmo["restaurant_scene"],
            "business_type": firmo["business_type"],
        }
    )


# --------------------------------------------------------------------------
# truth and README
# --------------------------------------------------------------------------


def _truth(seed, hidden, best, roster, bad, pii, codes_truth) -> dict:
    interviewed = roster.merge(
        best[["account_id", "is_best"]], on="account_id", suffixes=("", "_rule")
    )
    code_accounts = codes_truth.merge(
        roster[["interview_id", "account_id", "is_best"]], on="interview_id"
    )
    why_rates = {}
    for code in WHY_TRAITS:
        has = code_accounts.loc[code_accounts["code"].eq(code), "account_id"].unique()
        why_rates[code] = {
            "best": round(
                float(interviewed.loc[interviewed["is_best"], "account_id"].isin(has).mean()), 3
            ),
            "rest": round(
                float(interviewed.loc[~interviewed["is_best"], "account_id"].isin(has).mean()), 3
            ),
        }
    return {
        "description": "What the sample generator planted. Synthetic data; see README.md.",
        "generator": {"command": "icp sample", "seed": int(seed)},
        "period": {
            "start": _date_str(SAMPLE_START),
            "end": _date_str(SAMPLE_END),
            "quarters": "2023Q4:2026Q3",
        },
        "currency": "EUR",
        "icp_traits": list(ICP_TRAITS),
        "icp_trait_factors": {k: float(v) for k, v in ICP_TRAITS.items()},
        "why_traits": list(WHY_TRAITS),
        "why_trait_rates": why_rates,
        "decoy_traits": [{"trait": t, "why": why} for t, why in DECOY_NOTES.items()],
        "negative_traits": [{"trait": t, "why": why} for t, why in NEGATIVE_NOTES.items()],
        "groups": {
            "file": "truth_accounts.csv",
            "column": "group",
            "descriptions": {g.name: g.description for g in GROUPS},
        },
        "best_customers": {
            "quarter": SAMPLE_QUARTER,
            "window": "2025Q4:2026Q3",
            "rule": {"weights": BEST_WEIGHTS, "share": 0.2},
            "file": "truth_accounts.csv",
            "column": f"is_best_{SAMPLE_QUARTER}",
            "count": int(best["is_best"].sum()),
        },
        "interviews": {
            "file": "truth_interviews.csv",
            "best": int(roster["is_best"].sum()),
            "rest": int((~roster["is_best"]).sum()),
            "persian": sorted(roster.loc[roster["language"].eq("fa"), "interview_id"].tolist()),
            "transcripts": sorted(
                roster.loc[roster["source"].eq("transcript"), "interview_id"].tolist()
            ),
        },
        "codes": {
            "file": "truth_codes.csv",
            "ambiguous_codes": list(AMBIGUOUS_CODES),
            "note": "negated mentions (e.g. 'delivery was never a problem') do not carry the code",
        },
        "pii_mentions": pii,
        "conversion_drivers": {
            "positive": ["form_submission", "key_page_visit", "download"],
            "download_details": ["price-list", "catalogue"],
            "weak": ["page_visit"],
            "none": ["newsletter_signup", "email_click", "video_view"],
            "negative": ["unsubscribe"],
            "senior_title_effect": "a form submission by a senior title (CEO, owner, founder, director, general manager) "
            "adds as much again to the log-odds of converting",
            "senior_titles": LEAD_TITLES["senior"],
            "log_odds": {k: float(v) for k, v in LEAD_EFFECTS.items()},
            "intercept": LEAD_INTERCEPT,
        },
        "bad_rows": {
            "deals": [
                {
                    "deal_id": b["deal_id"],
                    "row": int(b["row"]),
                    "line": int(b["row"]) + 1,
                    "reason": b["reason"],
                }
                for b in bad
            ],
            "row_numbering": "row: 1-based data row (header not counted); line: line in the file",
        },
    }


README = """# Sample CRM export (synthetic)

A synthetic CRM export of a premium olive-oil producer that sells B2B to about
2,000 accounts (wholesalers, distributors, restaurants, hotels, retailers,
delis, caterers), with deals from 2023-10-01 to 2026-09-30 (2023Q4 to 2026Q3).
Nothing here describes a real company or person.

It is generated by `icp sample --out data/sample --seed 7`
(`icp_helpers.sample.sample.write_sample`); the same seed writes the same bytes.
`icp.yml` at the project root points the workbench at this folder.

## Files

| file | content |
|---|---|
| `accounts.csv` | one row per account: `account_id`, `name`, `industry`, `employees`, `annual_revenue` (EUR), `country`, `region`, `city`, `city_size` (large/medium/small), `restaurant_scene` (strong/moderate/weak), `business_type` (independent/chain/cooperative), `founded_year`, `created_date`, `referred_by` (the referring account), `case_study` (true/false), `churned_date` |
| `deals.csv` | one row per deal: `deal_id`, `account_id`, `close_date` (ISO date and time), `amount` (EUR), `quantity` (units of `product`; a deal with more than one unit is a multi-item order), `product`, `stage` (won/lost/open), `created_date` |
| `contacts.csv` | people at the accounts: `contact_id`, `account_id`, `name`, `email`, `phone`, `job_title`, `job_role`, `seniority` |
| `interviews.csv` | interview answers, one row per question: `interview_id`, `account_id`, `question`, `answer`, `interviewee_role`, `date` |
| `transcripts/<interview_id>.md` | interviews kept as transcripts (format below); these interviews are not in `interviews.csv` |
| `codebook.yml` | the interview codebook: `code`, `dimension`, `description`, `keywords`, `patterns` (regular expressions), `examples` |
| `manual_codes_coder_a.csv`, `manual_codes_coder_b.csv` | codes two analysts assigned by hand to the same half of the interviews: `interview_id`, `question`, `code`, `coder` |
| `activities.csv` | web activity log of leads: `lead_id`, `timestamp`, `activity`, `detail`, `job_title` (on form submissions) |
| `leads.csv` | `lead_id`, `created`, `converted`, `converted_date`, `account_id` (when the lead belongs to an account), `job_title`, `source` |
| `prospects.csv` | organisations that are not customers yet, with the account trait columns |
| `truth.yml`, `truth_*.csv` | what the generator planted (see below); not an input of the workbench |

The export is deliberately messy, as real ones are: industry and country
spellings vary (`Whole saler`, `Hotel/Resort`, `U.K.`, `Deutschland`, stray
spaces and capitals; `icp.yml` maps them under `aliases`), about 4% of
`employees`, `annual_revenue` and `city_size` are missing, and a few deal rows
are broken (negative amounts, unparseable dates, unknown accounts, a repeated
`deal_id`) for the loaders to quarantine.

Interview `question` values are the six method questions: `how_found`,
`why_first_buy`, `pains_needs`, `need_met`, `opinion`, `why_stay`.

## Transcript format

One UTF-8 Markdown file per interview, named after the interview. A front
matter block between two `---` lines holds `interview_id`, `account_id`,
`interviewee_role` and `date` (ISO); then one `## <question>` heading per
question key, followed by the answer text up to the next heading.

```
---
interview_id: I0061
account_id: A00123
interviewee_role: owner
date: 2026-08-14
---
## how_found
answer text...
## why_first_buy
...
```

Some transcripts are in Persian: they mix the Arabic letters ي and ك with
the Persian ی and ک, drop or keep zero-width non-joiners, and write numbers
in Persian digits; normalise before matching keywords.

## Ground truth

`truth.yml` lists the planted ICP traits (`icp_traits`, with the factor each
multiplies an account's latent propensity by), the interview codes that best
customers mention far more often (`why_traits`), decoys that must not be
selected (`decoy_traits`), the trait over-represented among churned accounts
and lost deals (`negative_traits`), the drivers of lead conversion
(`conversion_drivers`), emails, phones and names planted in answers
(`pii_mentions`) and the broken deal rows (`bad_rows`). Beside it:

- `truth_accounts.csv`: `account_id`, planted `group` (customer segment),
  latent `propensity`, and `is_best_2026Q3` (top 20% by the default value
  rule over 2025Q4-2026Q3, among accounts with a won deal there that had not
  churned);
- `truth_interviews.csv`: who was interviewed, whether a best customer, language and source;
- `truth_codes.csv`: the true codes of every answer (`interview_id`, `question`, `code`).
"""


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def generate_sample(*, seed: int = 7) -> dict[str, object]:
    """Generate every table of the sample in memory.

    Parameters
    ----------
    seed : int
        Seeds every random stream; each table draws from its own stream so
        that a change to one table leaves the others as they were.

    Returns
    -------
    dict
        File name (relative to the sample folder) -> a DataFrame, a mapping
        written as YAML, or text.
    """
    streams = {
        name: np.random.default_rng([seed, k])
        for k, name in enumerate(
            ["accounts", "deals", "bad", "contacts", "interviews", "manual", "leads", "prospects"]
        )
    }
    accounts, hidden = _accounts(streams["accounts"])
    deals = _deals(streams["deals"], hidden)
    deals, bad = _plant_bad_deals(streams["bad"], deals)
    contacts = _contacts(streams["contacts"], hidden, accounts["name"])
    start = pd.Timestamp("2025-10-01")
    best = _value_rule(deals, accounts, start, SAMPLE_END + pd.Timedelta(days=1))
    interviews, transcripts, codes_truth, roster, pii = _interviews(
        streams["interviews"], hidden, best, contacts
    )
    coder_a, coder_b = _manual_codes(streams["manual"], codes_truth, roster)
    leads, activities = _leads(streams["leads"], hidden)
    prospects = _prospects(streams["prospects"])

    truth_accounts = hidden[["account_id", "group"]].assign(
        propensity=hidden["propensity"].round(4),
        **{
            f"is_best_{SAMPLE_QUARTER}": np.where(
                hidden["account_id"].map(best.set_index("account_id")["is_best"]), "true", "false"
            )
        },
    )
    codes_truth = codes_truth.sort_values(["interview_id", "question", "code"]).reset_index(
        drop=True
    )
    files: dict[str, object] = {
        "accounts.csv": accounts,
        "deals.csv": deals,
        "contacts.csv": contacts,
        "interviews.csv": interviews,
        "codebook.yml": _codebook(),
        "manual_codes_coder_a.csv": coder_a,
        "manual_codes_coder_b.csv": coder_b,
        "activities.csv": activities,
        "leads.csv": leads,
        "prospects.csv": prospects,
        "truth.yml": _truth(seed, hidden, best, roster, bad, pii, codes_truth),
        "truth_accounts.csv": truth_accounts,
        "truth_interviews.csv": roster.sort_values("interview_id")
        .reset_index(drop=True)
        .assign(is_best=lambda r: np.where(r["is_best"], "true", "false")),
        "truth_codes.csv": codes_truth,
        "README.md": README,
    }
    for interview_id, text in transcripts.items():
        files[f"transcripts/{interview_id}.md"] = text
    return files


def _write_one(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, pd.DataFrame):
        text = content.to_csv(index=False, float_format="%.2f", lineterminator="\n")
    elif isinstance(content, dict):
        text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)
    else:
        text = str(content)
        if not text.endswith("\n"):
            text += "\n"
    path.write_text(text, encoding="utf-8", newline="\n")


def write_sample(out_dir: Path, *, seed: int = 7) -> list[Path]:
    """Write the sample CRM export and its ground truth into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Folder to write into (created if missing). Existing transcripts are
        replaced so the folder matches the seed exactly.
    seed : int
        Random seed; the same seed writes byte-identical files.

    Returns
    -------
    list of Path
        The files written, sorted.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    transcripts = out_dir / "transcripts"
    if transcripts.is_dir():
        for old in transcripts.glob("*.md"):
            old.unlink()
    written = []
    for name, content in sorted(generate_sample(seed=seed).items()):
        path = out_dir / name
        _write_one(path, content)
        written.append(path)
    return sorted(written)
