"""The simulated sellers: who they are, how they register, what they list. All from the seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sellerflow.simulate.profiles import AVERAGE, MIX, Profile

_FIRST = ["Ada", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jonas", "Kira", "Liam", "Mona",
          "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Xena", "Yuki", "Zane"]
_LAST = ["Adler", "Brooks", "Costa", "Dietrich", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen", "Keller",
         "Lopez", "Meyer", "Novak", "Olsen", "Petrov", "Quist", "Rossi", "Schmidt", "Tanaka", "Uhl", "Vogel"]
_PRODUCTS = ["Stainless Steel Water Bottle 750 ml", "Bamboo Cutting Board Set", "Cotton Crew Socks 6 Pairs",
             "Ceramic Coffee Mug 350 ml", "LED Desk Lamp with USB Port", "Yoga Mat 6 mm Non Slip",
             "Cast Iron Skillet 26 cm", "Wireless Computer Mouse", "Hardcover Notebook A5 Dotted",
             "Glass Food Storage Containers", "Kids Watercolour Paint Set", "Linen Kitchen Towels 4 Pack"]


def iban(country: str, bban: str) -> str:
    """A valid IBAN: the ISO 13616 check digits computed for the country and account."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def gtin13(body: str) -> str:
    """A valid GTIN-13 from 12 digits: the GS1 mod-10 check digit appended."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass
class SimSeller:
    seller_id: str
    profile: Profile
    legal_name: str
    registration: dict[str, Any]
    listings: list[dict[str, Any]] = field(default_factory=list)
    fraudulent: bool = False
    token: str | None = None  # the seller's bearer token, from its registration
    status: str = "unregistered"

    @property
    def merchant_listings(self) -> list[dict[str, Any]]:
        return [listing for listing in self.listings if listing["fulfillment_channel"] == "merchant"]

    @property
    def marketplace_listings(self) -> list[dict[str, Any]]:
        return [listing for listing in self.listings if listing["fulfillment_channel"] == "marketplace"]


def _registration(rng: random.Random, n: int, name: str, *, expires: date) -> dict[str, Any]:
    bban = f"{rng.randrange(10**7, 10**8)}{n:010d}"  # a German BBAN: 8-digit bank code, 10-digit account
    return {
        "legal_name": name, "country": "DE", "business_type": "individual",
        "contact_email": f"seller{n}@example.com", "tax_id": f"DE{100000000 + n}",
        "bank_account": {"iban": iban("DE", bban)},
        "identity_document": {"type": "passport", "number": f"C{rng.randrange(10**7, 10**8)}",
                              "holder_name": name, "expiry_date": expires.isoformat()},
    }


def _listings(rng: random.Random, n: int, seller_id: str) -> list[dict[str, Any]]:
    products = rng.sample(_PRODUCTS, 5)
    made = []
    for i, title in enumerate(products):
        made.append({
            "listing_id": f"{seller_id}-L{i + 1}", "sku": f"{seller_id}-SKU{i + 1}",
            "product_id": gtin13(f"40{n:05d}{i:05d}"), "title": title, "brand": "Acme Home",
            "description": f"{title}. Durable and easy to clean.", "bullet_points": ["Easy to clean"],
            "condition": "new", "price": str(Decimal(rng.randint(899, 7999)) / 100), "currency": "EUR",
            "quantity": 100_000, "handling_days": rng.choice([1, 1, 2]),
            "fulfillment_channel": "marketplace" if i == 4 else "merchant",
            "image_urls": [f"https://images.example/{seller_id}/{i + 1}.jpg"],
        })
    return made


def population(sellers: int, seed: int, *, start: date) -> list[SimSeller]:
    """`sellers` honest sellers with profiles in the MIX shares, and one fraudulent registration."""
    rng = random.Random(f"population-{seed}")
    profiles: list[Profile] = []
    for profile, share in MIX:
        profiles += [profile] * max(1, round(share * sellers))
    profiles = (profiles + [AVERAGE] * sellers)[:sellers]
    rng.shuffle(profiles)
    made = []
    for n, profile in enumerate(profiles, start=1):
        seller_id = f"S{n:03d}"
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        seller = SimSeller(seller_id, profile, name, _registration(rng, n, name, expires=date(2031, 1, 1)))
        seller.listings = _listings(rng, n, seller_id)
        made.append(seller)
    made.append(_fraudster(rng, sellers + 1, copy_tax_id_of=made[0], start=start))
    return made


def _fraudster(rng: random.Random, n: int, *, copy_tax_id_of: SimSeller, start: date) -> SimSeller:
    """Expired document, a holder who is someone else, a broken IBAN, another seller's tax id."""
    name = "Mallory Fraud"
    registration = _registration(rng, n, name, expires=date(start.year - 1, 6, 30))
    registration["tax_id"] = copy_tax_id_of.registration["tax_id"]
    registration["identity_document"]["holder_name"] = "Somebody Else"
    good = registration["bank_account"]["iban"]
    registration["bank_account"]["iban"] = good[:2] + f"{(int(good[2:4]) + 1) % 100:02d}" + good[4:]
    return SimSeller(f"S{n:03d}", AVERAGE, name, registration, fraudulent=True)
