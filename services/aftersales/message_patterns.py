"""The compiled patterns behind the seller-message rules (message_rules.py), one group per rule.

Patterns work on normalised text (message_rules.normalise): NFKC, no zero-width characters,
straight apostrophes, single spaces. All are compiled once, case-insensitive. Words that must
appear together are matched within one sentence (``_SENTENCE``), so a refund in one sentence and
a review request in the next are not read as "a refund for a review".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


def _compile(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


def _near(a: str, b: str, gap: str) -> str:
    """a then b, or b then a, with at most `gap` between them."""
    return f"(?:{a}){gap}(?:{b})|(?:{b}){gap}(?:{a})"


# Within one sentence: no sentence end, semicolon or line break in between.
_SENTENCE: Final = r"[^.!?;\n]{0,100}?"

# --- M1 links -------------------------------------------------------------------------------------

_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A dot written to get past a filter: "(dot)", "[.]", " dot ", " . " (a space *before* the dot:
# a sentence end has none).
OBFUSCATED_DOT: Final = r"\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+|\s+\.\s*"
_DOT: Final = rf"(?:{OBFUSCATED_DOT}|\.)"
# Top-level domains recognised without a scheme or "www". Short English words (it, in, to, at,
# is, be, no, so) are left out: "...shipped it.In the meantime" is not a link.
_TLDS: Final = (
    r"(?:com|net|org|info|biz|shop|store|online|site|app|dev|io|co|ly|me|tv|gg|cc|ai|xyz|top|club"
    r"|link|us|uk|ca|de|fr|es|nl|eu|au|cn|jp|ru|br|mx|ch|se|pl)"
)

# Chains are bounded ({0,8} labels) and local parts start only at the start of a run, so that a
# hostile 4,000-character message costs linear time, not quadratic.
_CHAIN: Final = rf"(?:{_DOT}{_LABEL}){{0,8}}"
_LOCAL: Final = r"(?<![a-z0-9._%+-])[a-z0-9._%+-]{1,64}"

LINK: Final = _compile(
    r"\b(?:https?|ftp|hxxps?)\s*:\s*/\s*/\s*[^\s<>\"']+",  # with a scheme: the whole URL
    rf"\bwww{_DOT}{_LABEL}{_CHAIN}(?:/[^\s<>\"']*)?",  # www.anything
    rf"\b{_LABEL}{_CHAIN}{_DOT}{_TLDS}\b(?:/[^\s<>\"']*)?",  # shop.example.com
)
SCHEME: Final = re.compile(r"^[a-z]+\s*:\s*/\s*/\s*", re.IGNORECASE)
DOT_SEPARATOR: Final = re.compile(OBFUSCATED_DOT, re.IGNORECASE)

# --- M2 e-mail addresses and phone numbers -------------------------------------------------------

_AT: Final = r"\s*@\s*|\s*[(\[{<]\s*at\s*[)\]}>]\s*"
_WEBMAIL: Final = r"gmail|googlemail|yahoo|hotmail|outlook|icloud|aol|gmx|protonmail|proton|yandex"

EMAIL: Final = _compile(
    rf"{_LOCAL}(?:{_AT}){_LABEL}{_CHAIN}{_DOT}[a-z]{{2,}}\b",
    # "john at mystore dot com": the spoken "at" only with a disguised dot, else "look at
    # shop.example.com" would be an address (it is a link, M1).
    rf"{_LOCAL}\s+at\s+{_LABEL}(?:(?:{OBFUSCATED_DOT}){_LABEL}){{0,8}}(?:{OBFUSCATED_DOT}){_TLDS}\b",
    rf"{_LOCAL}(?:{_AT}|\s+at\s+)(?:{_WEBMAIL})\b",  # "john at gmail"
)


@dataclass(frozen=True)
class PhonePattern:
    """A phone-number shape and how many digits a real number of that shape has."""

    pattern: re.Pattern[str]
    min_digits: int
    max_digits: int
    group: int = 0  # the group holding the number


def _phone(pattern: str, min_digits: int, max_digits: int, group: int = 0) -> PhonePattern:
    return PhonePattern(re.compile(pattern, re.IGNORECASE), min_digits, max_digits, group)


PHONES: Final = (
    # International: +44 20 7946 0958, +1 (555) 123-4567, 0049 30 1234567.
    _phone(r"(?<![\w+])(?:\+\s*|00)[1-9](?:[\s.\-/]{0,3}\(?\d+\)?){1,8}", 8, 15),
    # North American: (555) 123-4567, 555.123.4567, 555 123 4567.
    _phone(r"(?<!\w)(?:\(\d{3}\)\s*\d{3}[\s.\-]?|\d{3}[\s.\-]\d{3}[\s.\-])\d{4}(?!\w)", 10, 10),
    # National with a trunk 0: 020 7946 0958, 0171-1234567, 06 12 34 56 78, 0612345678.
    _phone(r"(?<![\w+])0[1-9]\d{0,4}(?:[\s.\-/]\d{2,8}){1,4}(?!\w)", 9, 12),
    _phone(r"(?<![\w+])0[1-9]\d{8,9}(?!\w)", 10, 11),
    # Any digits the message itself calls a phone number: "call me on 5551234567".
    _phone(
        r"\b(?:call|phone|tel|telephone|mobile|cell|whats\s*app|text|sms|fax|ring)\b"
        r"(?:\s*(?:us|me|him|her|number|no\.?|at|on|via|:|-|#))*\s*(\+?\(?\d[\d\s().\-/]{5,}\d)",
        7,
        15,
        group=1,
    ),
)

# Order, tracking and product numbers are not phone numbers: "tracking 9400 1000 0000 0000 0000 00".
REFERENCE_NUMBER: Final = re.compile(
    r"\b(?:tracking|track|waybill|awb|order|invoice|receipt|reference|ref|rma|return|case|claim|sku|asin"
    r"|isbn|upc|ean|gtin|model|part|serial|lot|batch)"
    # The number may be written in groups ("1Z 999 AA1 01 2345 6784"): each further group has a digit.
    r"(?:\s*(?:number|no\.?|id|code|#))?\s*(?:is\s+)?[:#]?\s*[a-z0-9][a-z0-9-]{1,}(?:\s(?=[a-z]*\d)[a-z0-9]{2,})*",
    re.IGNORECASE,
)

# --- M3 marketing, coupons, other products --------------------------------------------------------

_MONEY_OFF: Final = r"[$€£]\s*\d+(?:[.,]\d+)?|\b\d+\s*(?:dollars?|euros?|pounds?|usd|eur|gbp)"
_SALES_WORD: Final = (
    r"\b(?:discounts?|off|save|saving|savings|deals?|coupons?|vouchers?|credit|rewards?|cheaper)\b"
)
_NEXT_ORDER: Final = r"\b(?:next|future|upcoming|following)\s+(?:orders?|purchases?|visits?|buys?)\b"

MARKETING: Final = _compile(
    r"\b(?:coupons?|vouchers?|promo(?:tion(?:al)?)?\s*codes?|promo|discount\s*codes?|referral\s*codes?)\b",
    r"\b(?:use|enter|apply)\s+(?:the\s+|my\s+|our\s+|this\s+)?(?:promo\s+|discount\s+)?code\b",
    r"\b\d{1,3}\s*(?:%|percent|per\s*cent)\s*off\b",
    rf"(?:{_MONEY_OFF})\s+off\b",
    _near(_SALES_WORD, _NEXT_ORDER, _SENTENCE),
    r"\b(?:check\s+out|browse|visit|see|view|explore|discover|shop|(?:have|take)\s+a\s+look\s+at|look\s+at)"
    r"\s+(?:all\s+|more\s+of\s+)?(?:our|my)\s+(?:(?:other|new|latest|full|whole|entire|similar|related)\s+)*"
    r"(?:products?|items?|ranges?|collections?|catalog(?:ue)?s?|stores?|shops?|storefronts?|brands?"
    r"|listings?|selection|offers?|deals?|sales?|lines?)\b",
    r"\b(?:our|my)\s+other\s+(?:products?|items?|listings?|brands?|offers?|ranges?|collections?)\b",
    r"\byou\s+(?:might|may|will|would)\s+also\s+(?:like|love|enjoy)\b|\balso\s+recommend\b",
    r"\b(?:new\s+arrivals?|new\s+collections?|new\s+products|latest\s+products|similar\s+products)\b",
    r"\b(?:special|exclusive|limited[\s-]+time)\s+(?:offers?|deals?|discounts?|prices?)\b",
    r"\b(?:flash|clearance|summer|winter|holiday|big)\s+sale\b|\bon\s+sale\b|\bbuy\s+one,?\s+get\s+one\b|\bbogo\b",
    r"\b(?:subscribe|sign\s+up)\s+(?:to|for)\s+(?:our|my)\b|\bnewsletter\b|\bmailing\s+list\b",
    r"\b(?:follow|like)\s+us\s+on\b|\b(?:our|my)\s+(?:instagram|facebook|tiktok|twitter|youtube|pinterest)\b",
    r"\b(?:buy|order|shop|purchase)\s+more\s+(?:from|at)\s+(?:our|my|us)\b",
    r"\bmore\s+(?:\w+\s+)?(?:products|items|deals|offers)\s+(?:from|at|in)\s+(?:our|my)\b",
    # Another marketplace or shop system: taking the buyer elsewhere.
    r"\b(?:etsy|ebay|shopify|walmart|aliexpress|temu)\b",
)

# --- M4-M8 reviews and feedback -------------------------------------------------------------------

# A review as a thing; "we will review your return" and "we'll review it" are the seller's verb, not a review.
_REVIEW: Final = (
    r"(?<!\bwill\s)(?<!'ll\s)(?<!\bshall\s)(?<!\bwe\s)(?<!\bi\s)"
    r"\b(?:reviews?|feedback|ratings?|stars?|rate\s+us)\b"
    r"(?!\s+(?:your|the)\s+(?:returns?|requests?|case|claim|photos?|pictures?|images?|order|issue|message"
    r"|details?|information)\b)"
)
_INCENTIVE: Final = (
    r"\brefund(?:s|ed|ing)?\b|\breimburs\w*|\bmoney\s+back\b|\bcash(?:\s*back)?\b|\bgift(?:\s*cards?|s)?\b"
    r"|\bdiscount(?:s|ed)?\b|\bcoupons?\b|\bvouchers?\b|(?<![\w-])(?<!feel\s)free\b(?!\s+to\b|-)"
    r"|\brewards?\b|\bcompensat\w*|\bbonus\b|\brebates?\b|\bcredits?\b|\bpay(?:ing)?\s+(?:you|back)\b"
    r"|\bpaypal\b|[$€£]\s*\d+|\b\d+\s*(?:dollars?|euros?|pounds?|usd|eur|gbp)\b"
    r"|\b\d+\s*(?:%|percent)\s*(?:off|discount|back|refund|cash)\b"
)
# Asking for something; "we'd appreciate" asks, "we appreciate your review" thanks.
_REQUEST: Final = (
    r"\b(?:please|pls|kindly|leave|give|write|post|submit|rate|consider|hope|hoping|ask|asking|request"
    r"|encourage|if\s+you|could\s+you|can\s+you|would\s+you|don'?t\s+forget|remember\s+to"
    r"|(?:would|we'?d|i'?d)\s+(?:really\s+)?(?:love|like|appreciate)|appreciate\s+it\s+if"
    r"|take\s+a\s+(?:moment|minute|second))\b"
)
_POSITIVE_REVIEW: Final = (
    r"\b(?:positive|good|great|glowing|excellent|favou?rable|nice|top|perfect|awesome|amazing|stellar"
    r"|high|highest|best|outstanding|happy)\s+(?:reviews?|feedback|ratings?|stars?)\b"
    r"|\b(?:5|five|full)[\s-]*stars?\b"
)
_HAPPY_GATE: Final = (
    r"\b(?:only\s+)?if\s+(?:you\s+are|you're|you\s+were|you\s+feel|you\s+felt|you\s+have\s+been|you)\s+"
    r"(?:(?:really|very|fully|completely|totally|truly)\s+)?"
    r"(?:happy|satisfied|pleased|delighted|content|love|loved|like|liked|enjoy|enjoyed)\b"
    r"|\bif\s+(?:everything|all)\s+(?:is|was|went)\s+(?:fine|ok|okay|good|great|well|perfect)\b"
    r"|\b(?:happy|satisfied|pleased|delighted)\s+(?:customers?|buyers?|shoppers?)\b"
)
_CONTACT: Final = (
    r"\b(?:contact|message|e-?mail|write\s+to|talk\s+to|speak\s+(?:to|with)|reach\s+out\s+to|reach"
    r"|get\s+in\s+touch\s+with|let|tell|inform|notify)\s+(?:us|me)\b|\bget\s+in\s+touch\b|\breach\s+out\b"
)
_BEFORE_REVIEW: Final = (
    r"\b(?:before|prior\s+to|instead\s+of|rather\s+than)\s+(?:you\s+)?(?:\w+\s+){0,2}?"
    r"(?:leav|writ|post|giv|submit|rat|add)\w*\s+(?:[\w-]+\s+){0,3}?(?:reviews?|feedback|ratings?|stars?)\b"
)
# "Please don't leave negative feedback": a review only if it is a good one.
_NO_BAD_REVIEW: Final = (
    r"\b(?:don'?t|do\s+not|never|avoid)\s+(?:\w+\s+){0,2}?(?:leav|writ|post|giv)\w*\s+(?:\w+\s+){0,2}?"
    r"(?:negative|bad|poor|low|neutral|critical|1[\s-]stars?|one[\s-]stars?)\s+(?:reviews?|feedback|ratings?)\b"
)
_FILLER: Final = (
    r"(?:(?:your|the|this|that|these|those|its|negative|neutral|bad|poor|low|critical|unfavou?rable|recent"
    r"|last|previous|earlier|current|existing|product|seller|\d[\s-]?stars?|(?:one|two|three)[\s-]stars?)"
    r"[\s-]+){0,3}"
)
_CHANGE: Final = (
    r"chang|updat|revis|remov|delet|edit|amend|withdr[ae]w|retract|modif|reconsider|rais|upgrad|adjust"
    r"|increas|improv|tak\w*\s+down|eras|revisit"
)
_CHANGED: Final = (
    r"removed|changed|updated|deleted|revised|edited|amended|withdrawn|retracted|modified|taken\s+down"
    r"|raised|upgraded"
)

# Every review pattern below needs one of these words: without them M4-M8 are skipped (it is cheaper).
MENTIONS_REVIEW: Final = re.compile(r"review|feedback|rating|star|rate", re.IGNORECASE)

REVIEW_INCENTIVE: Final = _compile(_near(_INCENTIVE, _REVIEW, _SENTENCE))
POSITIVE_REVIEW_REQUEST: Final = _compile(
    _near(_REQUEST, _POSITIVE_REVIEW, _SENTENCE),
    # The gate may end one sentence and the request start the next: "If you are happy. Review us".
    rf"(?:{_HAPPY_GATE})[^\n]{{0,120}}?(?:{_REVIEW})",
    rf"(?:{_REVIEW}){_SENTENCE}(?:{_HAPPY_GATE})",
    _NO_BAD_REVIEW,
)
CONTACT_BEFORE_REVIEW: Final = _compile(
    _near(_CONTACT, _BEFORE_REVIEW, _SENTENCE),
    _near(rf"(?:{_CONTACT})\s+first\b", _REVIEW, _SENTENCE),
    _near(_CONTACT, _NO_BAD_REVIEW, r"[^.!?\n]{0,100}?"),  # across a semicolon: "don't ...; contact us"
)
CHANGE_REVIEW: Final = _compile(
    rf"\b(?:{_CHANGE})\w*\s+{_FILLER}(?:reviews?|feedback|ratings?)\b",
    rf"\b(?:have|get|having|getting)\s+(?:[\w-]+\s+){{0,3}}?(?:reviews?|feedback|ratings?)\s+(?:{_CHANGED})\b",
    rf"\b(?:reviews?|feedback|ratings?)\s+(?:(?:could|can|would|will|might|may|should|to)\s+)?"
    rf"(?:be|been|get|gets|got)\s+(?:\w+\s+)?(?:{_CHANGED})\b",
    r"\b(?:change|update|raise|increase|bump|upgrade)\s+(?:it|them|that)\s+to\s+(?:\d|four|five)[\s-]*stars?\b",
)
REVIEW_REQUEST: Final = _compile(
    r"\b(?:leave|write|post|give|submit|share|add|drop|provide|consider\s+leaving)\s+(?:us\s+|me\s+)?"
    r"(?:(?:a|an|your|some|the|quick|short|brief|honest|positive|good|great|product|seller|\d|five)[\s-]+){0,3}"
    r"(?:reviews?|feedback|ratings?|stars?)\b",
    r"\b(?:rate|review)\s+(?:us|me|your\s+(?:purchase|order|experience|item|product)"
    r"|(?:the|this|our)\s+(?:product|item|seller|purchase|service|store|shop))\b",
    r"\b(?:would|we'?d|i'?d)\s+(?:really\s+|truly\s+)?(?:love|like|appreciate|value|welcome|be\s+grateful\s+for)"
    r"\s+(?:[\w']+\s+){0,6}?(?:reviews?|feedback|ratings?)\b",
    r"\bplease\s+(?:\w+\s+){0,2}?(?:review|rate)\b(?!\s+(?:the|our|your|this|these|those|attached|my)\b)",
    r"\b(?:your|an?)\s+(?:honest\s+)?(?:reviews?|feedback|ratings?)\s+(?:would|will|helps?|means|matters)\b",
    r"\bhow\s+many\s+stars\b",
)

# "Thank you for leaving feedback" thanks for a review, it does not ask for one (M8).
THANKS: Final = re.compile(
    r"\b(?:thanks?|thank\s+you|grateful|appreciate\s+you)(?:\s+(?:so|very)\s+much)?\s+for\b[^.!?;\n]*",
    re.IGNORECASE,
)
