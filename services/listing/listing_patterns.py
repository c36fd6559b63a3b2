"""The pattern tables of the listing content rules (domain.md section 2): the one place to extend a rule.

Phrases match on word boundaries ("wholesale" is not "sale"). `listing_rules` applies them.
"""

from __future__ import annotations

import re


def words(*phrases: str) -> list[re.Pattern[str]]:
    """Phrases matched as whole words: nothing alphanumeric may touch either end."""
    return [re.compile(rf"(?<!\w)(?:{phrase})(?!\w)", re.IGNORECASE) for phrase in phrases]


PROMOTIONAL = words(
    r"free\s+shipping",
    r"best[\s-]?sellers?",
    r"\#\s?1",
    r"hot\s+items?",
    r"(?:on\s+)?sale",
    r"limited[\s-]+time",
    r"100\s?%\s*guaranteed?",
)
SALES_RANK = words(
    r"(?:best[\s-]?sellers?|sales)\s+rank(?:ing|ed)?",
    r"top[\s-]?(?:sellers?|selling)",
    r"\#\s?1\s+(?:in|on)",
    r"number\s+(?:one|1)\s+(?:in|on)",
    r"bsr",
)
TLDS = "com|net|org|info|biz|io|co|uk|de|fr|es|it|nl|eu|ca|au|jp|cn|ru|shop|store|online|site|xyz|app|tv|ly"
CONTACT = [
    *words(
        # e-mail, plain and spelled out: john@host.com, john [at] host [dot] com
        r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}",
        r"[\w.+-]+\s*[\[({]at[\])}]\s*[\w-]+\s*(?:[\[({]dot[\])}]|\.)\s*[a-z]{2,}",
        r"https?://\S+",
        r"www\.[\w-]+(?:\.[\w-]+)*",
        r"[\w-]+\s*(?:[\[({]dot[\])}]|\sdot\s)\s*(?:com|net|org)",  # example dot com
        r"(?:call|phone|tel|telephone|mobile|cell|whatsapp|sms|fax)[\s:.]*(?:(?:us|me)\s+)?(?:at\s+|on\s+)?"
        r"\+?\d[\d\s()./-]{5,}\d",
    ),
    # A bare domain: the TLD in lower (or all upper) case, so "great.Net weight" is a typo, not a link.
    re.compile(rf"(?<![\w@.-])[a-z0-9][\w-]*(?:\.[\w-]+)*\.(?-i:{TLDS}|{TLDS.upper()})(?![\w-])", re.I),
    # Phones: international (+44 20 7946 0958), North American ((555) 123-4567), national (030/1234567).
    re.compile(r"(?<![\w+])(?:\+|00)\d{1,3}[\s.-]?(?:\(\d{1,4}\)|\d{1,4})(?:[\s.-]?\d{2,4}){2,4}(?!\w)"),
    re.compile(r"(?<![\w+])(?:1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\w)"),
    re.compile(r"(?<![\w+])(?:\(0\d{1,4}\)\s?|0\d{1,4}[\s./-])\d{3,4}[\s.-]?\d{3,4}(?!\w)"),
]
OFFERS = [
    *words(
        r"in[\s-]stock",
        r"out\s+of\s+stock",
        r"only\s+\d+\s+left",
        r"limited\s+stock",
        r"ships?\s+(?:today|tomorrow|same[\s-]day|next[\s-]day|free|fast|within|worldwide|in\s+\d+)",
        r"dispatch(?:ed|es)?\s+(?:today|tomorrow|same[\s-]day|within)",
        r"(?:same|next)[\s-]day\s+(?:shipping|delivery|dispatch)",
        r"(?:free|fast|express|quick)\s+(?:shipping|delivery|dispatch|returns?)",
        r"\d+\s?%\s+off",
        r"buy\s+(?:one|1)\s+get\s+(?:one|1)",
        r"bogo",
        r"(?:usd|eur|gbp|cad|aud|jpy)\s?\d+(?:[.,]\d+)?",
        r"\d+(?:[.,]\d+)?\s?(?:usd|eur|gbp|cad|aud|jpy)",
    ),
    re.compile(r"[$€£¥₹]\s?\d+(?:[.,]\d+)?|\d+(?:[.,]\d+)?\s?[$€£¥₹]"),
]
REVIEWS = words(
    r"(?:leave|write|post|submit)\s+(?:us\s+|me\s+)?(?:an?\s+)?(?:[\w-]+\s+){0,2}(?:review|feedback|rating)s?",
    r"give\s+(?:us|me)\s+(?:an?\s+)?(?:[\w-]+\s+){0,2}(?:reviews?|feedback|ratings?|stars?)",
    r"please\s+(?:kindly\s+|do\s+)?(?:rate|review)\s+(?:us|me|our\s+\w+|this\s+(?:product|item|purchase))",
    r"(?:rate|review)\s+us",
    r"testimonials?",
    r"rave\s+reviews?",
    r"(?:5|five)[\s-]?stars?\s+(?:reviews?|ratings?|feedback)",
    r"(?:customer|buyer|user)\s+reviews?",
    r"(?:customers?|buyers?|clients?|users?|reviewers?)\s+(?:say|says|said|rave|raved|agree|love|loved)",
    r"rated\s+\d(?:\.\d)?\s*(?:/\s*5|out\s+of\s+(?:5|five)|stars?)",
    r"\d(?:\.\d)?\s+out\s+of\s+(?:5|five)\s+stars",
)
TAG = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*\b[^<>]*>|<!--|<![a-z]", re.IGNORECASE)
ALLOWED_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
