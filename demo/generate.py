"""The demo's data, generated deterministically: partners, logins, catalog, stores, a year
of daily POS, weekly inventory, promotions, a quarter of orders, plans and risks.

Pure: the same ``as_of`` and :class:`Spec` give the same data on every machine, with no
I/O. Each series draws from its own ``random.Random`` seeded with a string naming it
(``"2026:pos:harbor:S0001:09521234000011"``), so nothing depends on generation order.
Records refer to each other by natural keys (organization keys, GTINs, location codes,
order numbers); :mod:`demo.seed` maps those to the hub's ids. POS and inventory are
generators: the full demo has over a million POS rows.

Identifiers use GS1 prefix 952, which GS1 keeps for demonstrations and examples.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from domain.gs1 import with_check_digit
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, OPERATOR_ADMIN, SUPPLIER_USER

CURRENCY = "USD"
EMAIL_DOMAIN = "tandem-demo.example.com"


@dataclass(frozen=True)
class Spec:
    """How much data. The defaults are the full demo; tests use a small one."""

    days: int = 365  # of POS and inventory, ending the day before as_of
    stores: int = 150  # across both distributors
    skus_per_supplier: int = 100
    skus_per_store: int = 24
    seed: int = 2026
    order_days: int = 91  # weekly orders per pair over this many days before as_of


FULL = Spec()


# -- partners and logins --------------------------------------------------------------


@dataclass(frozen=True)
class Org:
    key: str
    name: str
    kind: str
    prefix: str  # GS1 company prefix
    code: str  # short code, in order and store numbers
    regions: tuple[str, ...] = ()

    @property
    def gln(self) -> str:
        return location_gln(self.prefix, 0)

    @property
    def x12_id(self) -> str:
        return f"{self.key.upper()}DEMO"


def location_gln(prefix: str, number: int) -> str:
    """A GLN-13 under a company prefix: prefix, location reference, check digit."""
    return with_check_digit(f"{prefix}{number:0{12 - len(prefix)}d}")


ORGS = (
    Org("northfield", "Northfield Foods", "supplier", "9521234", "NF"),
    Org("brightwell", "Brightwell Home Products", "supplier", "9522345", "BW"),
    Org("cascade", "Cascade Beverage Co.", "supplier", "9523456", "CB"),
    Org(
        "harbor", "Harbor Fresh Markets", "distributor", "9524567", "HF", ("northeast", "southeast")
    ),
    Org(
        "prairie",
        "Prairie Wholesale Grocers",
        "distributor",
        "9525678",
        "PW",
        ("midwest", "southwest", "west"),
    ),
    Org("operator", "Tandem Operations", "operator", "9526789", "TO"),
)
ORG_BY_KEY = {o.key: o for o in ORGS}
SUPPLIERS = tuple(o for o in ORGS if o.kind == "supplier")
DISTRIBUTORS = tuple(o for o in ORGS if o.kind == "distributor")
OPERATOR = ORG_BY_KEY["operator"]


@dataclass(frozen=True)
class Account:
    """A demo login. The passwords are public: this is demo data."""

    email: str
    password: str
    role: str
    org: str  # Org.key
    first_name: str
    last_name: str


def _account(role: str, org: str, local: str, first: str, last: str) -> Account:
    password = f"tandem-demo-{local.rsplit('.', 1)[-1]}"
    return Account(f"{local}@{EMAIL_DOMAIN}", password, role, org, first, last)


ACCOUNTS = (
    _account(SUPPLIER_USER, "northfield", "supplier.northfield", "Maya", "Chen"),
    _account(SUPPLIER_USER, "brightwell", "supplier.brightwell", "Luis", "Ortega"),
    _account(SUPPLIER_USER, "cascade", "supplier.cascade", "Priya", "Nair"),
    _account(DISTRIBUTOR_USER, "harbor", "distributor.harbor", "Tom", "Becker"),
    _account(DISTRIBUTOR_USER, "prairie", "distributor.prairie", "Ada", "Okafor"),
    _account(ACCOUNT_MANAGER, "operator", "manager", "Sam", "Rivera"),
    _account(OPERATOR_ADMIN, "operator", "operator", "Jo", "Lindqvist"),
)
MANAGER = next(a for a in ACCOUNTS if a.role == ACCOUNT_MANAGER)
#: The supplier-distributor pairs the demo's account manager looks after.
MANAGED_PAIRS = (("northfield", "harbor"), ("northfield", "prairie"), ("cascade", "harbor"))


def logins() -> list[dict[str, str]]:
    """The demo logins, as printed by ``tandem demo accounts`` and ``make run``."""
    return [
        {
            "email": a.email,
            "password": a.password,
            "role": a.role,
            "organization": ORG_BY_KEY[a.org].name,
        }
        for a in ACCOUNTS
    ]


# -- catalog --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    category: str
    product: str
    price: int  # list price of the first size, in cents
    case_pack: int
    variants: tuple[str, ...]
    sizes: tuple[tuple[str, float], ...]  # (size, price relative to the first size)


# Each supplier: "key brand lead-time-days", then its product lines, each on three lines:
# "category / product / list price in cents / case pack", the variants, the sizes.
CATALOG_TEXT = """
northfield Northfield 10
  Salty Snacks / Kettle Chips / 329 / 12
    Sea Salt | Salt & Vinegar | Honey BBQ | Jalapeño | Sour Cream & Onion | Black Pepper
    5 oz=1 | 8 oz=1.45 | 13 oz=2.1
  Salty Snacks / Tortilla Chips / 399 / 12
    Restaurant Style | Hint of Lime | Blue Corn | Multigrain
    11 oz=1 | 16 oz=1.35
  Salty Snacks / Pretzels / 349 / 12
    Mini Twists | Rods | Sourdough Nuggets | Honey Wheat
    10 oz=1 | 16 oz=1.4
  Salty Snacks / Popcorn / 379 / 12
    Sea Salt | White Cheddar | Kettle Corn
    4.4 oz=1 | 6 ct microwave=1.3
  Cookies & Crackers / Crackers / 359 / 12
    Whole Wheat | Sea Salt | Rosemary | Everything | Cheddar
    7 oz=1 | 12 oz=1.5
  Cookies & Crackers / Sandwich Cookies / 399 / 12
    Chocolate | Vanilla | Lemon | Peanut Butter
    10 oz=1 | 15 oz=1.4
  Breakfast / Granola / 549 / 6
    Honey Almond | Maple Pecan | Dark Chocolate | Berry Crunch
    11 oz=1 | 22 oz=1.8
  Breakfast / Oatmeal / 429 / 12
    Original | Apple Cinnamon | Maple Brown Sugar
    18 oz=1 | 10 ct packets=0.9
  Pantry / Pasta Sauce / 449 / 12
    Marinara | Tomato Basil | Arrabbiata | Vodka | Mushroom
    24 oz=1 | 32 oz=1.3
  Pantry / Peanut Butter / 379 / 12
    Creamy | Crunchy | Natural Creamy
    16 oz=1 | 28 oz=1.6
  Pantry / Pasta / 189 / 20
    Spaghetti | Penne | Rigatoni | Fusilli | Elbows | Linguine
    16 oz=1
  Pantry / Salsa / 379 / 12
    Mild | Medium | Hot | Roasted Tomatillo
    16 oz=1 | 24 oz=1.4
  Snack Bars / Chewy Granola Bars / 399 / 12
    Chocolate Chip | Oats & Honey | Peanut Butter
    6 ct=1 | 12 ct=1.75
brightwell Brightwell 14
  Laundry / Liquid Laundry Detergent / 999 / 6
    Free & Clear | Spring Meadow | Lavender | Ocean Breeze
    64 oz=1 | 100 oz=1.45 | 150 oz=2
  Laundry / Laundry Pods / 1299 / 4
    Free & Clear | Original | Lavender
    42 ct=1 | 81 ct=1.8
  Laundry / Dryer Sheets / 549 / 12
    Unscented | Fresh Linen | Lavender
    80 ct=1 | 160 ct=1.7
  Laundry / Fabric Softener / 649 / 6
    Fresh Linen | Lavender | Free & Clear
    64 oz=1 | 120 oz=1.6
  Dish / Dish Soap / 349 / 12
    Lemon | Original | Free & Clear | Apple Blossom
    19 oz=1 | 28 oz=1.35
  Dish / Dishwasher Pods / 1099 / 6
    Lemon | Original | Free & Clear
    32 ct=1 | 62 ct=1.75
  Paper / Paper Towels / 1199 / 4
    Select-a-Size | Regular | Ultra Strong
    6 rolls=1 | 12 rolls=1.8
  Paper / Bath Tissue / 1349 / 4
    Ultra Soft | Ultra Strong | Septic Safe
    12 rolls=1 | 24 rolls=1.85
  Paper / Facial Tissue / 599 / 8
    Everyday | Lotion | Unscented
    3 boxes=1 | 6 boxes=1.8
  Paper / Paper Napkins / 449 / 12
    White | Everyday Print
    200 ct=1 | 400 ct=1.7
  Surface Care / All-Purpose Cleaner / 429 / 12
    Citrus | Lavender | Unscented | Eucalyptus
    32 oz spray=1 | 64 oz refill=1.5
  Surface Care / Disinfecting Wipes / 449 / 12
    Lemon | Fresh Scent | Unscented
    35 ct=1 | 75 ct=1.7 | 3-pack 225 ct=3.9
  Surface Care / Glass Cleaner / 379 / 12
    Original | Streak-Free Citrus
    26 oz=1 | 2-pack 52 oz=1.8
  Trash & Storage / Trash Bags / 1049 / 6
    13 gal Drawstring | 30 gal Heavy Duty | 4 gal Small
    40 ct=1 | 80 ct=1.75
  Trash & Storage / Storage Bags / 399 / 12
    Sandwich | Quart | Gallon
    50 ct=1 | 100 ct=1.7
  Trash & Storage / Aluminum Foil / 499 / 12
    Standard | Heavy Duty | Non-Stick
    75 sq ft=1 | 200 sq ft=2.2
cascade Cascade 7
  Sparkling Water / Sparkling Water / 549 / 4
    Lime | Grapefruit | Black Cherry | Lemon | Unflavored | Mango
    8-pack 12 oz cans=1 | 1 L bottle=0.35
  Juice / Orange Juice / 499 / 6
    Pulp Free | Some Pulp | Calcium
    52 oz=1 | 89 oz=1.5
  Juice / Apple Juice / 399 / 8
    Original | Honeycrisp
    64 oz=1 | 6-pack 6.75 oz=0.9
  Juice / Lemonade / 349 / 6
    Classic | Strawberry | Light
    52 oz=1 | 89 oz=1.5
  Coffee & Tea / Cold Brew Coffee / 599 / 6
    Black | Vanilla | Mocha | Caramel
    32 oz=1 | 4-pack 11 oz=1.25
  Coffee & Tea / Iced Tea / 349 / 6
    Lemon | Peach | Unsweetened | Raspberry | Half & Half
    64 oz=1 | 12-pack 12 oz cans=2.4
  Sports Drinks / Electrolyte Drink / 169 / 12
    Lemon-Lime | Fruit Punch | Glacier Freeze | Orange | Grape
    28 oz=1 | 8-pack 20 oz=3.9
  Energy Drinks / Energy Drink / 279 / 12
    Original | Sugar Free | Tropical | Berry
    16 oz can=1 | 4-pack 16 oz=3.6
  Kombucha / Kombucha / 349 / 12
    Ginger | Berry | Citrus | Original
    16 oz=1
  Soda / Craft Soda / 599 / 6
    Root Beer | Ginger Ale | Cream Soda | Black Cherry | Orange
    4-pack 12 oz bottles=1 | 2 L=0.6
  Water / Spring Water / 599 / 1
    Still
    24-pack 16.9 oz=1 | 1 gal=0.28 | 6-pack 1 L=0.6
  Plant Milk / Oat Milk / 479 / 6
    Original | Unsweetened | Vanilla | Barista
    64 oz=1 | 32 oz=0.6
  Plant Milk / Almond Milk / 399 / 6
    Original | Unsweetened | Vanilla | Chocolate
    64 oz=1 | 32 oz=0.6
  Coconut Water / Coconut Water / 499 / 6
    Pure | Pineapple
    33.8 oz=1 | 6-pack 11 oz=1.3
"""


def _parse_catalog(text: str) -> dict[str, tuple[str, int, tuple[_Line, ...]]]:
    """Supplier key: (brand, lead time in days, product lines), from :data:`CATALOG_TEXT`."""
    catalog: dict[str, tuple[str, int, tuple[_Line, ...]]] = {}
    rows = [line for line in text.splitlines() if line.strip()]
    index = 0
    while index < len(rows):
        key, brand, lead = rows[index].split()
        lines: list[_Line] = []
        index += 1
        while index < len(rows) and rows[index].startswith("  "):
            category, product, price, case_pack = (p.strip() for p in rows[index].split(" / "))
            variants = tuple(v.strip() for v in rows[index + 1].split("|"))
            sizes = tuple(
                (size.strip(), float(factor))
                for size, factor in (s.split("=") for s in rows[index + 2].split("|"))
            )
            lines.append(_Line(category, product, int(price), int(case_pack), variants, sizes))
            index += 3
        catalog[key] = (brand, int(lead), tuple(lines))
    return catalog


CATALOG = _parse_catalog(CATALOG_TEXT)

# Annual seasonality per category: (amplitude, day of the year sales peak).
SEASONS: dict[str, tuple[float, int]] = {
    "Salty Snacks": (0.12, 185),
    "Cookies & Crackers": (0.15, 350),
    "Breakfast": (0.12, 15),
    "Pantry": (0.15, 20),
    "Snack Bars": (0.10, 240),
    "Laundry": (0.05, 100),
    "Dish": (0.08, 330),
    "Paper": (0.08, 80),
    "Surface Care": (0.18, 95),
    "Trash & Storage": (0.10, 180),
    "Sparkling Water": (0.30, 200),
    "Juice": (0.10, 20),
    "Coffee & Tea": (0.25, 195),
    "Sports Drinks": (0.40, 200),
    "Energy Drinks": (0.15, 200),
    "Kombucha": (0.20, 190),
    "Soda": (0.25, 185),
    "Water": (0.35, 200),
    "Plant Milk": (0.05, 0),
    "Coconut Water": (0.30, 200),
}
# Monday to Sunday: the weekend sells more.
WEEKDAY = (0.86, 0.82, 0.88, 0.96, 1.12, 1.30, 1.06)
RETURN_RATE = 0.003


@dataclass(frozen=True)
class Sku:
    gtin: str  # GTIN-14 form, as the hub keeps it
    supplier: str
    description: str
    category: str
    case_pack: int
    cost_minor: int  # what a distributor pays
    list_price_minor: int  # the shelf price
    lead_time_days: int
    rate: float  # mean units a day at an average store, before seasonality


def _round_price(cents: float) -> int:
    """A shelf price ending in 9."""
    return max(99, round(cents / 10.0) * 10 - 1)


def _catalog(spec: Spec) -> list[Sku]:
    skus: list[Sku] = []
    for supplier in SUPPLIERS:
        brand, lead, lines = CATALOG[supplier.key]
        rng = random.Random(f"{spec.seed}:catalog:{supplier.key}")
        options = [
            (line, variant, size, factor)
            for line in lines
            for variant in line.variants
            for size, factor in line.sizes
        ]
        chosen = sorted(rng.sample(range(len(options)), min(spec.skus_per_supplier, len(options))))
        for number, index in enumerate(chosen, start=1):
            line, variant, size, factor = options[index]
            gtin13 = with_check_digit(f"{supplier.prefix}{number:05d}")
            price = _round_price(line.price * factor)
            skus.append(
                Sku(
                    gtin=gtin13.zfill(14),
                    supplier=supplier.key,
                    description=f"{brand} {line.product}, {variant}, {size}",
                    category=line.category,
                    case_pack=line.case_pack,
                    cost_minor=int(price * rng.uniform(0.56, 0.7)),
                    list_price_minor=price,
                    lead_time_days=lead + rng.choice((0, 0, 2, 4)),
                    rate=min(15.0, max(0.6, rng.lognormvariate(math.log(3.0), 0.6))),
                )
            )
    return skus


# -- stores and distribution centers --------------------------------------------------

# Region: "City ST" names, separated by "|".
CITIES_TEXT = """
northeast: Boston MA|Providence RI|Hartford CT|Portland ME|Albany NY|Burlington VT|Worcester MA
southeast: Atlanta GA|Charlotte NC|Raleigh NC|Nashville TN|Savannah GA|Richmond VA|Tampa FL
midwest: Chicago IL|Columbus OH|Indianapolis IN|Milwaukee WI|Minneapolis MN|Omaha NE|Detroit MI
southwest: Phoenix AZ|Tucson AZ|Albuquerque NM|El Paso TX|Austin TX|San Antonio TX|Tulsa OK
west: Denver CO|Salt Lake City UT|Boise ID|Portland OR|Seattle WA|Sacramento CA|Reno NV
"""
CITIES = {
    region: tuple(names.split("|"))
    for region, names in (line.split(": ") for line in CITIES_TEXT.strip().splitlines())
}
DCS_PER_DISTRIBUTOR = 2


@dataclass(frozen=True)
class Location:
    distributor: str
    code: str
    name: str
    kind: str  # store | dc
    region: str
    gln: str
    size: float  # store traffic relative to an average store (1.0)


def _locations(spec: Spec) -> list[Location]:
    locations: list[Location] = []
    for index, dist in enumerate(DISTRIBUTORS):
        rng = random.Random(f"{spec.seed}:locations:{dist.key}")
        share = spec.stores // len(DISTRIBUTORS) + (index < spec.stores % len(DISTRIBUTORS))
        brand = dist.name.split()[0]
        for number in range(1, DCS_PER_DISTRIBUTOR + 1):
            region = dist.regions[(number - 1) % len(dist.regions)]
            city = CITIES[region][-number]
            locations.append(
                Location(
                    dist.key,
                    f"DC{number:02d}",
                    f"{brand} Distribution Center {city}",
                    "dc",
                    region,
                    location_gln(dist.prefix, 9000 + number),
                    1.0,
                )
            )
        for number in range(1, share + 1):
            region = dist.regions[(number - 1) % len(dist.regions)]
            cities = CITIES[region]
            city = cities[((number - 1) // len(dist.regions)) % len(cities)]
            locations.append(
                Location(
                    dist.key,
                    f"S{number:04d}",
                    f"{brand} #{number} {city}",
                    "store",
                    region,
                    location_gln(dist.prefix, number),
                    round(rng.uniform(0.6, 1.6), 2),
                )
            )
    return locations


@dataclass(frozen=True)
class ItemCode:
    distributor: str
    gtin: str
    item_code: str


def _item_codes(spec: Spec, skus: list[Sku]) -> list[ItemCode]:
    codes: list[ItemCode] = []
    for dist in DISTRIBUTORS:
        rng = random.Random(f"{spec.seed}:item-codes:{dist.key}")
        numbers = rng.sample(range(100_000, 1_000_000), len(skus))
        codes += [
            ItemCode(dist.key, sku.gtin, f"{dist.code}{n}")
            for sku, n in zip(skus, numbers, strict=True)
        ]
    return codes


def _assortment(
    spec: Spec, skus: list[Sku], locations: list[Location]
) -> dict[tuple[str, str], tuple[str, ...]]:
    """Which GTINs each store carries: an equal share from each supplier, popular first."""
    by_supplier = {s.key: [k for k in skus if k.supplier == s.key] for s in SUPPLIERS}
    carried: dict[tuple[str, str], tuple[str, ...]] = {}
    for loc in locations:
        if loc.kind != "store":
            continue
        rng = random.Random(f"{spec.seed}:assortment:{loc.distributor}:{loc.code}")
        gtins: list[str] = []
        for index, supplier in enumerate(SUPPLIERS):
            count = spec.skus_per_store // len(SUPPLIERS) + (
                index < spec.skus_per_store % len(SUPPLIERS)
            )
            # Weighted sampling without replacement (Efraimidis-Spirakis keys).
            ranked = sorted(by_supplier[supplier.key], key=lambda k: rng.random() ** (1.0 / k.rate))
            gtins += [k.gtin for k in ranked[-count:]]
        carried[(loc.distributor, loc.code)] = tuple(sorted(gtins))
    return carried


# -- sharing agreements ---------------------------------------------------------------


@dataclass(frozen=True)
class AgreementPlan:
    grantor: str
    grantee: str
    kinds: tuple[str, ...]
    valid_from: dt.date
    purpose: str  # unique among the demo's agreements: the seed finds them by it
    regions: tuple[str, ...] = ()
    revoked: bool = False


def _agreements(first_day: dt.date, days: int) -> list[AgreementPlan]:
    full_from = first_day - dt.timedelta(days=30)
    later = first_day + dt.timedelta(days=days * 3 // 4)
    both = ("pos", "inventory")
    return [
        AgreementPlan(
            "harbor",
            "northfield",
            (*both, "forecasts"),
            full_from,
            "Demo: full sell-through and forecasts",
        ),
        AgreementPlan(
            "prairie",
            "northfield",
            both,
            full_from,
            "Demo: midwest and west stores only",
            regions=("midwest", "west"),
        ),
        AgreementPlan("harbor", "brightwell", ("pos",), later, "Demo: POS from the last quarter"),
        AgreementPlan("prairie", "brightwell", both, full_from, "Demo: full sell-through"),
        AgreementPlan(
            "harbor", "cascade", both, full_from, "Demo: pilot ended, revoked", revoked=True
        ),
        AgreementPlan("prairie", "cascade", both, full_from, "Demo: full sell-through"),
    ]


# -- promotions -----------------------------------------------------------------------

PROMO_TYPES: dict[str, tuple[str, tuple[int, int], int]] = {
    # type: (label, expected uplift % range, shelf discount %)
    "tpr": ("Temporary price reduction", (25, 40), 20),
    "display": ("End-cap display", (15, 30), 0),
    "feature": ("Weekly ad feature", (20, 35), 10),
    "bogo": ("Buy one, get one 50% off", (55, 80), 25),
    "bundle": ("Mix and match 3 for 2", (20, 30), 15),
}


@dataclass(frozen=True)
class Promotion:
    name: str  # unique among the demo's promotions
    supplier: str
    distributor: str
    type: str
    mechanics: str
    start: dt.date
    end: dt.date
    uplift_pct: int
    discount_pct: int
    status: str  # draft | submitted | accepted | declined
    skus: tuple[str, ...]  # GTINs
    locations: tuple[str, ...]  # store codes
    history: tuple[tuple[str, dt.datetime, str | None], ...]  # (status, at, comment)
    supplier_comment: str | None


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def _promotions(
    spec: Spec,
    as_of: dt.date,
    first_day: dt.date,
    skus: list[Sku],
    locations: list[Location],
    assortment: dict[tuple[str, str], tuple[str, ...]],
) -> list[Promotion]:
    promotions: list[Promotion] = []
    supplier_of = {k.gtin: k.supplier for k in skus}
    past = max(1, spec.days // 60)
    past_span = max(1, spec.days - 14)
    for supplier in SUPPLIERS:
        for dist in DISTRIBUTORS:
            rng = random.Random(f"{spec.seed}:promotions:{supplier.key}:{dist.key}")
            stores = [x for x in locations if x.distributor == dist.key and x.kind == "store"]
            # Some run in the past; one is up for the supplier's answer, one is a draft.
            starts = [
                first_day + dt.timedelta(days=n * past_span // past + rng.randrange(7))
                for n in range(past)
            ]
            starts += [
                as_of + dt.timedelta(days=rng.randint(3, 20)),
                as_of + dt.timedelta(days=rng.randint(28, 50)),
            ]
            for start in starts:
                kind = rng.choice(sorted(PROMO_TYPES))
                label, uplift, discount = PROMO_TYPES[kind]
                end = start + dt.timedelta(days=rng.choice((6, 13)))
                region = rng.choice((*dist.regions, "all"))
                where = [s for s in stores if region in ("all", s.region)]
                carried = sorted(
                    {
                        g
                        for s in where
                        for g in assortment[(dist.key, s.code)]
                        if supplier_of[g] == supplier.key
                    }
                )
                if not carried or not where:
                    continue
                gtins = tuple(sorted(rng.sample(carried, min(len(carried), rng.randint(2, 4)))))
                if start > as_of + dt.timedelta(days=21):
                    status = "draft"
                elif start > as_of:
                    status = rng.choice(("submitted", "submitted", "accepted"))
                else:
                    status = "accepted" if rng.random() < 0.8 else "declined"
                history: list[tuple[str, dt.datetime, str | None]] = [
                    ("draft", _at(start - dt.timedelta(days=45), 9), None)
                ]
                if status != "draft":
                    history.append(("submitted", _at(start - dt.timedelta(days=30), 11), None))
                comment = {
                    "accepted": "Funded as proposed; stock is planned.",
                    "declined": "Cannot fund this depth of discount this quarter.",
                }.get(status)
                if comment:
                    history.append((status, _at(start - dt.timedelta(days=24), 15), comment))
                promotions.append(
                    Promotion(
                        name=(
                            f"{CATALOG[supplier.key][0]} {label.lower()} at "
                            f"{dist.name.split()[0]}, {start:%b} {start.day} {start.year}"
                        ),
                        supplier=supplier.key,
                        distributor=dist.key,
                        type=kind,
                        mechanics=f"{label}; {region} stores"
                        + (f"; {discount}% off shelf price" if discount else ""),
                        start=start,
                        end=end,
                        uplift_pct=rng.randint(*uplift),
                        discount_pct=discount,
                        status=status,
                        skus=gtins,
                        locations=tuple(s.code for s in where),
                        history=tuple(history),
                        supplier_comment=comment,
                    )
                )
    return promotions


# -- orders, shipments, invoices ------------------------------------------------------


@dataclass(frozen=True)
class PoLine:
    line_no: int
    gtin: str
    qty_ordered: int
    unit_cost_minor: int
    qty_promised: int | None
    qty_shipped: int | None  # on the ASN
    qty_received: int | None


@dataclass(frozen=True)
class Shipment:
    number: str
    status: str  # shipped | received
    ship_date: dt.date
    expected_delivery: dt.date
    received_date: dt.date | None
    recorded_at: dt.datetime  # when the ASN reached the hub


@dataclass(frozen=True)
class Invoice:
    number: str
    invoice_date: dt.date
    due_date: dt.date
    status: str  # open | paid


@dataclass(frozen=True)
class PurchaseOrder:
    number: str
    supplier: str
    distributor: str
    ship_to: str  # a DC's code
    status: str  # open | acknowledged | rejected | shipped | partially_shipped
    ordered_on: dt.date
    requested_date: dt.date
    promised_date: dt.date | None
    original_promised_date: dt.date | None
    revised_date: dt.date | None
    placed_at: dt.datetime
    acknowledged_at: dt.datetime | None
    lines: tuple[PoLine, ...]
    shipment: Shipment | None
    invoice: Invoice | None


def _orders(spec: Spec, as_of: dt.date, first_day: dt.date, skus: list[Sku]) -> list[PurchaseOrder]:
    """Weekly orders per pair over ``spec.order_days`` (a quarter in the demo; fewer days
    of POS mean fewer orders)."""
    orders: list[PurchaseOrder] = []
    start = max(first_day, as_of - dt.timedelta(days=spec.order_days))
    for s_index, supplier in enumerate(SUPPLIERS):
        catalog = [k for k in skus if k.supplier == supplier.key]
        lead = CATALOG[supplier.key][1]
        for d_index, dist in enumerate(DISTRIBUTORS):
            rng = random.Random(f"{spec.seed}:orders:{supplier.key}:{dist.key}")
            day = as_of - dt.timedelta(days=1 + s_index + 2 * d_index)
            while day >= start:
                orders.append(_order(rng, as_of, day, supplier, dist, catalog, lead))
                day -= dt.timedelta(days=7)
    return sorted(orders, key=lambda o: o.number)


def _order(
    rng: random.Random,
    as_of: dt.date,
    ordered_on: dt.date,
    supplier: Org,
    dist: Org,
    catalog: list[Sku],
    lead: int,
) -> PurchaseOrder:
    number = f"{dist.code}-{ordered_on:%Y%m%d}-{supplier.code}"
    requested = ordered_on + dt.timedelta(days=lead)
    count = min(len(catalog), rng.randint(4, 10))
    picked = sorted(rng.sample(catalog, count), key=lambda k: k.gtin)
    quantities = [k.case_pack * rng.randint(10, 60) for k in picked]
    age = (as_of - ordered_on).days
    status, promised, original, revised, acked = "open", None, None, None, None
    if age >= 3:
        # Placed at 09:00 and answered the next morning: at 08:00 (23 h), or on every
        # sixth day at 11:00 (26 h, late for the 24-hour acknowledgement KPI).
        late_answer = ordered_on.toordinal() % 6 == 0
        acked = _at(ordered_on + dt.timedelta(days=1), 11 if late_answer else 8)
        if rng.random() < 0.05:
            status = "rejected"
        else:
            status, promised, original = "acknowledged", requested, requested
            if rng.random() < 0.15:
                promised = revised = requested + dt.timedelta(days=rng.randint(2, 6))
    shipment = invoice = None
    shipped: list[int | None] = [None] * len(picked)
    received: list[int | None] = [None] * len(picked)
    if promised is not None:
        late = rng.randint(1, 4) if rng.random() < 0.2 else 0
        ship_date = promised - dt.timedelta(days=2 - late)
        if ship_date < as_of:
            short = rng.random() < 0.25
            for i, (sku, qty) in enumerate(zip(picked, quantities, strict=True)):
                cut = sku.case_pack * rng.randint(1, 3) if short and rng.random() < 0.5 else 0
                shipped[i] = max(0, qty - cut)
            status = "partially_shipped" if shipped != quantities else "shipped"
            expected = ship_date + dt.timedelta(days=2)
            arrived = expected if expected < as_of else None
            if arrived is not None:
                for i, sku in enumerate(picked):
                    damaged = sku.case_pack if rng.random() < 0.05 else 0
                    received[i] = max(0, (shipped[i] or 0) - damaged)
            shipment = Shipment(
                f"ASN-{number}",
                "received" if arrived else "shipped",
                ship_date,
                expected,
                arrived,
                _at(ship_date, 18),
            )
            due = ship_date + dt.timedelta(days=30)
            invoice = Invoice(f"INV-{number}", ship_date, due, "paid" if due < as_of else "open")
    lines = tuple(
        PoLine(
            line_no=i + 1,
            gtin=sku.gtin,
            qty_ordered=qty,
            unit_cost_minor=sku.cost_minor,
            qty_promised=qty if promised is not None else None,
            qty_shipped=shipped[i],
            qty_received=received[i],
        )
        for i, (sku, qty) in enumerate(zip(picked, quantities, strict=True))
    )
    return PurchaseOrder(
        number=number,
        supplier=supplier.key,
        distributor=dist.key,
        ship_to=f"DC{1 + ordered_on.toordinal() % DCS_PER_DISTRIBUTOR:02d}",
        status=status,
        ordered_on=ordered_on,
        requested_date=requested,
        promised_date=promised,
        original_promised_date=original,
        revised_date=revised,
        placed_at=_at(ordered_on, 9),
        acknowledged_at=acked,
        lines=lines,
        shipment=shipment,
        invoice=invoice,
    )


# -- plans and risks ------------------------------------------------------------------


@dataclass(frozen=True)
class PlanAction:
    title: str
    owner_side: str  # supplier | distributor
    due_date: dt.date
    status: str  # open | done
    completed_on: dt.date | None


@dataclass(frozen=True)
class Plan:
    supplier: str
    distributor: str
    year: int
    targets: dict[str, str]  # metric: exact decimal string
    sponsors: str
    status: str
    actions: tuple[PlanAction, ...] = ()


ACTIONS = (
    ("Agree the summer allocation", "supplier"),
    ("Share promotion POS daily", "distributor"),
    ("Send the new packaging's item data", "supplier"),
    ("Review the range for the autumn reset", "distributor"),
)


def _plan_actions(as_of: dt.date) -> tuple[PlanAction, ...]:
    """One done on time, one done late, one overdue and one still to come."""
    (a, sa), (b, sb), (c, sc), (d, sd) = ACTIONS
    day = dt.timedelta(days=1)
    return (
        PlanAction(a, sa, as_of - 60 * day, "done", as_of - 62 * day),
        PlanAction(b, sb, as_of - 30 * day, "done", as_of - 27 * day),
        PlanAction(c, sc, as_of - 5 * day, "open", None),
        PlanAction(d, sd, as_of + 20 * day, "open", None),
    )


@dataclass(frozen=True)
class Risk:
    supplier: str
    distributor: str
    title: str
    description: str
    category: str
    likelihood: int
    impact: int
    mitigation: str
    review_date: dt.date
    status: str


RISKS = (
    (
        "Peak-season capacity",
        "Co-packer capacity may not cover the summer peak.",
        "supply",
        "Pre-build four weeks of stock; agree a weekly allocation.",
    ),
    (
        "Freight cost increase",
        "Carrier rates on the lanes to the DCs are rising.",
        "cost",
        "Consolidate loads to full truckloads; review quarterly.",
    ),
    (
        "Promotion forecast misses",
        "Recent promotions sold well above or below their forecast.",
        "demand",
        "Share promotion POS daily; review the plan two weeks ahead.",
    ),
    (
        "Packaging change",
        "New packaging needs new item setup at the distributor.",
        "operations",
        "Send item data six weeks ahead; run both GTINs for a month.",
    ),
)


def _plans_and_risks(spec: Spec, as_of: dt.date) -> tuple[list[Plan], list[Risk]]:
    plans: list[Plan] = []
    risks: list[Risk] = []
    for supplier, dist in MANAGED_PAIRS:
        rng = random.Random(f"{spec.seed}:plans:{supplier}:{dist}")
        plans.append(
            Plan(
                supplier,
                dist,
                as_of.year,
                {
                    "net_sales_growth_pct": f"{rng.randint(30, 90) / 10:.1f}",
                    # Scorecard KPIs by their names in domain.scorecard.
                    "fill.unit": f"{rng.randint(960, 985) / 10:.1f}",
                    "otif.order.promised": f"{rng.randint(920, 970) / 10:.1f}",
                    "ack.24h": "95.0",
                    "in_stock_pct": f"{rng.randint(950, 980) / 10:.1f}",
                },
                f"{MANAGER.first_name} {MANAGER.last_name} (account manager)",
                "active",
                _plan_actions(as_of),
            )
        )
        for title, description, category, mitigation in rng.sample(RISKS, 2):
            risks.append(
                Risk(
                    supplier,
                    dist,
                    title,
                    description,
                    category,
                    rng.randint(1, 5),
                    rng.randint(2, 5),
                    mitigation,
                    as_of + dt.timedelta(days=rng.randint(14, 60)),
                    "open",
                )
            )
    return plans, risks


# -- the demo -------------------------------------------------------------------------


class PosRow(NamedTuple):
    distributor: str
    location: str  # location code
    gtin: str
    day: dt.date
    units: int  # negative when returns outweigh sales
    net_sales_minor: int


def _cover_range(draw: float) -> tuple[float, float]:
    """A stock position's cover, in weeks of sales, for a draw in [0, 1): low a quarter
    of the time, healthy 58%, in excess 17% (the bands: < 4, 4-13, > 13 weeks)."""
    if draw < 0.25:
        return 1.0, 3.5
    if draw < 0.83:
        return 4.5, 12.0
    return 14.0, 22.0


class InventoryRow(NamedTuple):
    distributor: str
    location: str
    gtin: str
    day: dt.date
    on_hand: int
    in_transit: int
    on_order: int


class ForecastRow(NamedTuple):
    distributor: str
    location: str
    gtin: str
    week: dt.date  # its Monday
    units: int
    received: dt.date  # the day the distributor delivered it


class CommitmentRow(NamedTuple):
    supplier: str
    distributor: str
    gtin: str
    week: dt.date
    units: int
    kept: dict[str, int]  # units_h<n> as the hub would have kept them (past weeks)


#: The demo's forecast weeks: this many before as_of's ISO week, and this many from it on.
FORECAST_WEEKS_BACK, FORECAST_WEEKS_AHEAD = 8, 13
#: A past week's forecast was delivered this many days before the week began.
FORECAST_LEAD_DAYS = 14
#: The pair whose supplier answers with commitments in the demo.
COMMITTING = ("northfield", "harbor")


@dataclass(frozen=True)
class Demo:
    as_of: dt.date
    spec: Spec
    skus: tuple[Sku, ...]
    locations: tuple[Location, ...]
    item_codes: tuple[ItemCode, ...]
    assortment: dict[tuple[str, str], tuple[str, ...]]  # (distributor, store code) -> GTINs
    agreements: tuple[AgreementPlan, ...]
    promotions: tuple[Promotion, ...]
    orders: tuple[PurchaseOrder, ...]
    plans: tuple[Plan, ...]
    risks: tuple[Risk, ...]

    @property
    def first_day(self) -> dt.date:
        return self.as_of - dt.timedelta(days=self.spec.days)

    def days(self) -> list[dt.date]:
        """The days with POS: ``spec.days`` of them, ending the day before ``as_of``."""
        return [self.first_day + dt.timedelta(days=i) for i in range(self.spec.days)]

    def _effects(self) -> dict[tuple[str, str, str], list[tuple[dt.date, dt.date, float, int]]]:
        """Accepted promotions' (start, end, lift, discount %) by (distributor, store, GTIN)."""
        effects: dict[tuple[str, str, str], list[tuple[dt.date, dt.date, float, int]]] = {}
        for promo in self.promotions:
            if promo.status != "accepted":
                continue
            lift = 1 + promo.uplift_pct / 100
            for code in promo.locations:
                for gtin in promo.skus:
                    effects.setdefault((promo.distributor, code, gtin), []).append(
                        (promo.start, promo.end, lift, promo.discount_pct)
                    )
        return effects

    def pos_rows(self) -> Iterator[PosRow]:
        """Daily POS per store and carried SKU; days with no sales have no row."""
        days = self.days()
        weekday = [WEEKDAY[d.weekday()] for d in days]
        seasonal = {
            category: [
                w * (1 + amp * math.cos(2 * math.pi * (d.timetuple().tm_yday - peak) / 365.25))
                for d, w in zip(days, weekday, strict=True)
            ]
            for category, (amp, peak) in SEASONS.items()
        }
        skus = {k.gtin: k for k in self.skus}
        effects = self._effects()
        seed = self.spec.seed
        for loc in self.locations:
            if loc.kind != "store":
                continue
            for gtin in self.assortment[(loc.distributor, loc.code)]:
                sku = skus[gtin]
                rng = random.Random(f"{seed}:pos:{loc.distributor}:{loc.code}:{gtin}")
                base = sku.rate * loc.size
                factors = seasonal[sku.category]
                promos = effects.get((loc.distributor, loc.code, gtin), ())
                for day, factor in zip(days, factors, strict=True):
                    mean = base * factor
                    price = sku.list_price_minor
                    for start, end, lift, discount in promos:
                        if start <= day <= end:
                            mean *= lift
                            price = price * (100 - discount) // 100
                    if rng.random() < RETURN_RATE:
                        units = -rng.randint(1, 2)
                    else:
                        units = int(mean + math.sqrt(mean) * rng.gauss(0.0, 1.0) + 0.5)
                        if units <= 0:
                            continue
                    yield PosRow(loc.distributor, loc.code, gtin, day, units, units * price)

    def forecast_weeks(self) -> list[dt.date]:
        monday = self.as_of - dt.timedelta(days=self.as_of.weekday())
        return [
            monday + dt.timedelta(weeks=k)
            for k in range(-FORECAST_WEEKS_BACK, FORECAST_WEEKS_AHEAD)
        ]

    def forecast_rows(self) -> Iterator[ForecastRow]:
        """Weekly forecasts per store and carried SKU around as_of: a past week's as
        delivered two weeks ahead, the coming weeks' as delivered on as_of. No
        seasonality or promotions in them: that is what the accuracy shows."""
        skus = {k.gtin: k for k in self.skus}
        weeks = self.forecast_weeks()
        for loc in self.locations:
            if loc.kind != "store":
                continue
            for gtin in self.assortment[(loc.distributor, loc.code)]:
                rng = random.Random(
                    f"{self.spec.seed}:forecast:{loc.distributor}:{loc.code}:{gtin}"
                )
                weekly = skus[gtin].rate * loc.size * 7
                for week in weeks:
                    received = min(week - dt.timedelta(days=FORECAST_LEAD_DAYS), self.as_of)
                    units = round(weekly * rng.uniform(0.8, 1.25))
                    yield ForecastRow(loc.distributor, loc.code, gtin, week, units, received)

    def commitments(self) -> list[CommitmentRow]:
        """The committing pair's supplier's answers per SKU and week: near the forecast,
        a little under it mostly, some weeks well under (short of capacity)."""
        supplier, distributor = COMMITTING
        theirs = {k.gtin for k in self.skus if k.supplier == supplier}
        totals: dict[tuple[str, dt.date], int] = {}
        for row in self.forecast_rows():
            if row.distributor == distributor and row.gtin in theirs:
                key = (row.gtin, row.week)
                totals[key] = totals.get(key, 0) + row.units
        out = []
        for (gtin, week), total in sorted(totals.items()):
            rng = random.Random(f"{self.spec.seed}:commit:{gtin}:{week}")
            units = round(total * (rng.uniform(0.6, 0.75) if rng.random() < 0.1 else
                                   rng.uniform(0.9, 1.05)))  # fmt: skip
            kept = {"units_h1": units, "units_h2": units} if week < self.as_of else {}
            out.append(CommitmentRow(supplier, distributor, gtin, week, units, kept))
        return out

    def inventory_rows(self) -> Iterator[InventoryRow]:
        """Weekly (Saturday) inventory: each store's carried SKUs, every SKU at each DC.

        Each position keeps a cover of its own, in weeks of its expected sales, give or
        take 15% a week, so the weeks-of-supply bands spread as a real assortment's do:
        about a quarter low (1-3.5 weeks), six in ten healthy (4.5-12), one in six in
        excess (14-22), and a store's position out of stock one week in 33."""
        weeks = [d for d in self.days() if d.weekday() == 5]
        skus = {k.gtin: k for k in self.skus}
        stores_per_dc = self.spec.stores / len(DISTRIBUTORS) / DCS_PER_DISTRIBUTOR
        carried_share = self.spec.skus_per_store / max(1, len(self.skus))
        seed = self.spec.seed
        for loc in self.locations:
            if loc.kind == "store":
                gtins = self.assortment[(loc.distributor, loc.code)]
                scale = loc.size
            else:
                gtins = tuple(skus)
                scale = stores_per_dc * carried_share * 1.5
            for gtin in gtins:
                sku = skus[gtin]
                rng = random.Random(f"{seed}:inventory:{loc.distributor}:{loc.code}:{gtin}")
                weekly = sku.rate * scale * 7
                cover = rng.uniform(*_cover_range(rng.random()))
                for day in weeks:
                    out_of_stock = loc.kind == "store" and rng.random() < 0.03
                    on_hand = 0 if out_of_stock else round(weekly * cover * rng.uniform(0.85, 1.15))
                    in_transit = sku.case_pack * rng.randint(1, 3) if rng.random() < 0.3 else 0
                    on_order = sku.case_pack * rng.randint(1, 4) if rng.random() < 0.4 else 0
                    yield InventoryRow(
                        loc.distributor, loc.code, gtin, day, on_hand, in_transit, on_order
                    )


def build(as_of: dt.date, spec: Spec = FULL) -> Demo:
    """The demo as of a day: its POS ends the day before."""
    first_day = as_of - dt.timedelta(days=spec.days)
    skus = _catalog(spec)
    locations = _locations(spec)
    assortment = _assortment(spec, skus, locations)
    plans, risks = _plans_and_risks(spec, as_of)
    return Demo(
        as_of=as_of,
        spec=spec,
        skus=tuple(skus),
        locations=tuple(locations),
        item_codes=tuple(_item_codes(spec, skus)),
        assortment=assortment,
        agreements=tuple(_agreements(first_day, spec.days)),
        promotions=tuple(_promotions(spec, as_of, first_day, skus, locations, assortment)),
        orders=tuple(_orders(spec, as_of, first_day, skus)),
        plans=tuple(plans),
        risks=tuple(risks),
    )


def org_fields(org: Org) -> dict[str, Any]:
    """An organization's fields for :func:`governance.partners.add_partner`."""
    return {
        "gln": org.gln,
        "currency": CURRENCY,
        "x12_qualifier": "ZZ",
        "x12_id": org.x12_id,
        "edifact_id": org.gln,
        # A supplier's GTINs are under its company prefix (the hub refuses others).
        "gs1_prefixes": [org.prefix] if org.kind == "supplier" else [],
    }
