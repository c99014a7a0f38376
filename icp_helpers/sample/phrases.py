"""The words of the sample's interviews and leads: answer phrases (English and Persian), the codebook, lead and contact titles."""

from __future__ import annotations

__all__ = ["AMBIGUOUS_CODES", "CODEBOOK", "COMPETITOR_NAMES", "CONTACT_TITLES", "DIMENSIONS", "EMPTY_ANSWERS", "FAIRS", "FILLERS", "LEAD_EFFECTS", "LEAD_INTERCEPT", "LEAD_SOURCES", "LEAD_TITLES", "NEGATIONS", "NEGATION_QUESTIONS", "PAGES", "PERSIAN_EMPTY", "PERSIAN_FILLERS", "PERSIAN_NEGATIONS", "PERSIAN_PHRASES", "PHRASES", "ROLE_WEIGHTS"]


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


