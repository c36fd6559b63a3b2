"""Contact details in seller text (L4, M1, M2): e-mail addresses, links and phone numbers.

Works on folded text (`shared.text.fold`), in seven languages, against the usual disguises:
"name (at) example (dot) com", "arobase", "chiocciola", spaced-out letters and digits, digits
spelled out ("five five five ..."), kanji digits, a host behind "wa.me/" or "t.me/". Every pattern
is RE2 (linear time); the Python around them walks each match once.

Numbers that only look like phones stay allowed: order, tracking, part and model numbers (named as
such), dimensions ("30 x 20 x 10 cm"), dates, versions, voltages.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Final

from shared.text import NOT_ALNUM, Pattern, any_of, blank, byte_spans, compile_re2, matches, substitute


def _compile(source: str) -> Pattern:
    """Case-insensitive: contact details are sought in folded text that keeps its case (see `_CASED_TLDS`)."""
    return compile_re2("(?i)" + source)


# --- spelled-out and spaced-out characters -------------------------------------------------------

_NUMBER_WORDS: Final = {
    "0": "zero null cero",
    "1": "one eins uno",
    "2": "two zwei deux dos due",
    "3": "three drei trois tres tre",
    "4": "four vier quatre cuatro quattro",
    "5": "five funf cinq cinco cinque",
    "6": "six sechs seis sei",
    "7": "seven sieben sept siete sette",
    "8": "eight acht huit ocho otto",
    "9": "nine neun neuf nueve nove",
    "+": "plus",
}
_DIGIT_OF: Final = {word: digit for digit, words in _NUMBER_WORDS.items() for word in words.split()}
_NUMBER_WORD: Final = "(?:" + "|".join(sorted(_DIGIT_OF, key=len, reverse=True)) + r"|\d+)"
# Four or more numbers in a row, at least one a word: "five five five one", "555 one two three 4567".
_SPELLED_NUMBER: Final = _compile(rf"\b{_NUMBER_WORD}(?:[\s,.\-]+{_NUMBER_WORD}){{3,}}\b")
_KANJI_DIGITS: Final = str.maketrans("〇零一二三四五六七八九", "00123456789")
# Runs of single characters spaced out: "j o h n", "5 5 5 1 2 3".
_SPACED_LETTERS: Final = _compile(r"(?:^|[^\pL\pN])((?:\pL ){2,}\pL)(?:[^\pL\pN]|$)")
_SPACED_DIGITS: Final = _compile(r"(?:^|[^\pL\pN])((?:\pN ){2,}\pN)(?:[^\pL\pN]|$)")


def _unspace(pattern: Pattern, text: str) -> str:
    """The spaces inside each match's group 1 taken out: "j o h n" -> "john"."""
    def join(data: bytes, spans: list[tuple[int, int]]) -> bytes:
        (start, end), (run_start, run_end) = spans[0], spans[1]
        return data[start:run_start] + data[run_start:run_end].replace(b" ", b"") + data[run_end:end]

    return substitute(pattern, text, join)


def _spelled_digits(text: str) -> str:
    """ "call five five five one" -> "call 5 5 5 1": number words where four or more numbers run together
    (a lone "one" is a word, not a digit). Python string steps per word, not a pattern match per word."""
    def digits(data: bytes, spans: list[tuple[int, int]]) -> bytes:
        run = data[spans[0][0] : spans[0][1]].decode()
        return " ".join("-".join(map(_as_digit, piece.split("-"))) for piece in run.split(" ")).encode()

    return substitute(_SPELLED_NUMBER, text, digits)


def _as_digit(word: str) -> str:
    core = word.rstrip(",.")
    return _DIGIT_OF.get(core.lower(), core) + word[len(core) :]


# --- e-mail addresses and links ------------------------------------------------------------------

_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A dot written to get past a filter: "(dot)", "[.]", " dot ", " punkt ", "ドット", " . " (a space
# *before* the dot: a sentence end has none). "point" and "punto" are also words: only before a TLD
# that is no word itself ("en este punto es" is Spanish, not a link).
_STRONG_DOT: Final = (
    r"\s*[(\[{<]\s*(?:dot|\.|punkt|point|punto)\s*[)\]}>]\s*|\s+(?:d[o0]t|punkt)\s+|\s*(?:ドット|点)\s*|\s+\.\s*"
)
_OBFUSCATED_DOT: Final = rf"{_STRONG_DOT}|\s+(?:point|punto)\s+"
_DOT: Final = rf"(?:{_OBFUSCATED_DOT}|\.)"
_CHAIN: Final = rf"(?:{_DOT}{_LABEL}){{0,8}}"
_TLDS: Final = (
    "com|net|org|info|biz|shop|store|online|site|app|dev|io|co|ly|me|tv|gg|cc|ai|xyz|top|club|link|us|uk|ca"
    "|de|fr|es|nl|eu|au|cn|jp|ru|br|mx|ch|se|pl"
)
# After a plain dot the TLD is in lower case or all capitals: "350 g.Net content" is a typo.
_CASED_TLDS: Final = f"(?-i:{_TLDS}|{_TLDS.upper()})"
# TLDs that are no word in our seven languages: a spoken dot before them is a link.
_SPOKEN_TLDS: Final = "c[o0]m|n[e3]t|[o0]rg|info|biz|shop|store|online|site|de|fr|it|nl|eu|uk|jp|cn|ru|io|ly"
# Short words that are also domains ("it", "at", "in"): a link only with a disguised dot.
_WORD_TLDS: Final = "it|at|in|be|to|is|no|so|es|me|us|co"
_LOCAL: Final = r"[a-z0-9._%+-]{1,64}"
_AT: Final = r"\s*@\s*|\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*"
_SPOKEN_AT: Final = r"\s+(?:at|arobase|arroba|chiocciola|klammeraffe)\s+|\s*(?:アットマーク|アット|艾特)\s*"
_WEBMAIL: Final = r"gmail|googlemail|yahoo|hotmail|outlook|icloud|aol|gmx|web\.de|protonmail|proton|yandex|qq|163|126"
_END: Final = rf"(?:{NOT_ALNUM}|$)"

EMAIL: Final = _compile(any_of(
        rf"{_LOCAL}(?:{_AT}){_LABEL}{_CHAIN}{_DOT}[a-z]{{2,}}{_END}",
        # The spoken "at" only with a disguised dot or a webmail host: "look at shop.example.com" is a link.
        rf"{_LOCAL}(?:{_SPOKEN_AT}|{_AT}){_LABEL}(?:(?:{_OBFUSCATED_DOT}){_LABEL}){{0,8}}(?:{_OBFUSCATED_DOT})(?:{_TLDS}|{_WORD_TLDS}){_END}",
        rf"{_LOCAL}(?:{_SPOKEN_AT}|{_AT})(?:{_WEBMAIL}){_END}",
        # "my gmail is john.doe1985": a handle with a digit or a dot in it.
        rf"(?:{_WEBMAIL})\s+(?:is|ist|est|es|e|:)\s*:?\s*[a-z0-9._-]*[0-9.][a-z0-9._-]*[a-z0-9]",
        # "johnATexampleDOTcom": the markers in capitals inside a lower-case run.
        rf"(?-i:[a-z0-9._-]+AT[a-z0-9-]+(?:DOT[a-z0-9-]+)*DOT(?:{_TLDS}))",
))
_SCHEME: Final = (
    r"(?:h\s*[tx]\s*[tx]\s*p\s*s?|ftp)\s*(?::|colon)\s*(?:/|slash)\s*(?:/|slash)\s*"
)
_PATH: Final = r"(?:/[^\s<>\"']*)?"
_HOST_START: Final = r"(?:^|[^\pL\pN@.-])"
LINK: Final = _compile(any_of(
    rf"{_SCHEME}[^\s<>\"']+",
    rf"(?:^|{NOT_ALNUM})www{_DOT}{_LABEL}{_CHAIN}{_PATH}",
    rf"{_HOST_START}{_LABEL}{_CHAIN}\.{_CASED_TLDS}{_END}{_PATH}",
    rf"{_HOST_START}{_LABEL}{_CHAIN}(?:{_OBFUSCATED_DOT})(?:{_SPOKEN_TLDS}){_END}{_PATH}",
    rf"{_HOST_START}{_LABEL}{_CHAIN}(?:{_STRONG_DOT})(?:{_WORD_TLDS}){_END}{_PATH}",
    # Link shorteners whose TLD is no TLD of ours; an IP address with a path or port; "shop,com".
    r"\b(?:goo\.gl|t\.co|is\.gd|rb\.gy|cutt\.ly|shorturl\.at|tiny\.cc|v\.gd|wa\.me|t\.me)/[^\s<>\"']*",
    r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{2,5})?/[^\s<>\"']*",
    r"\b[a-z0-9-]{2,},(?:com|net|org)\b",
))
# Technology names that are written like domains.
_NOT_LINKS: Final = _compile(r"(?:asp|vb|ado|dot)\.net|(?:^|\s)\.net(?:[^\pL\pN]|$)")
_SCHEME_PREFIX: Final = _compile(rf"^{_SCHEME}")
_DOT_SEPARATOR: Final = _compile(_OBFUSCATED_DOT)
_AUTHORITY_END: Final = _compile(r"[/?#\\]")
_SPACE: Final = _compile(r"\s+")

# --- phone numbers -------------------------------------------------------------------------------

# Order, tracking, part and model numbers are not phone numbers; blanked out before phones are sought.
_REFERENCE_WORDS: Final = (
    r"tracking|track|waybill|awb|order|invoice|receipt|reference|ref|rma|return|case|claim|sku|asin|isbn|upc"
    r"|ean|gtin|model|part|serial|lot|batch|article|item|bestell\pL*|sendung\pL*|artikel\pL*|ersatzteil\pL*"
    r"|teil\pL*|serien\pL*|modell|rechnung\pL*|commande|suivi|modele|pedido|seguimiento|referencia|modelo"
    r"|articulo|ordine|spedizione|codice|articolo|modello|riferimento|追跡番号|注文番号|型番|品番|伝票番号"
    r"|単号|单号|订单号|型号|编号"
)
_REFERENCE: Final = _compile(
    rf"(?:{_REFERENCE_WORDS})(?:\s*(?:{_REFERENCE_WORDS}|number|no\.?|nr\.?|nummer|numero|num|id|code|format|#))*"
    r"\s*(?:is|ist|est|es|e|lautet|は)?\s*[:#]?\s*[a-z0-9][a-z0-9-]{1,}(?:\s[a-z]*\d[a-z0-9]*)*"
)


@dataclass(frozen=True)
class _PhoneShape:
    pattern: Pattern
    min_digits: int
    max_digits: int
    #: Show the whole match ("call 555 123 4567"), not only the number (group 1).
    with_cue: bool = False


def _shape(source: str, min_digits: int, max_digits: int) -> _PhoneShape:
    # Group 1 is the number; what is around it is the boundary (RE2 has no look-behind).
    return _PhoneShape(_compile(f"(?:^|[^\\pL\\pN+])({source})(?:[^\\pL\\pN]|$)"), min_digits, max_digits)


_CUES: Final = (
    r"(?:^|[^\pL\pN])(?:call|ca[l1]{2}|phone|tel|telephone|mobile|cell|whats\s*app|text|sms|fax|ring|number|anruf\pL*|ruf"
    r"|rufen|telefon|handy|nummer|appel\pL*|portable|numero|llam\pL*|telefono|movil|celular|chiam\pL*"
    r"|cellulare|signal)|電話|携帯|电话|手机|致电|号码|番号"
)
_CUE_GAP: Final = (
    r"(?:[\s:.\-#()]|us|me|him|her|my|our|number|no|at|on|via|is|ist|sie|uns|mich|an|unter|au|nous|moi|al|nos"
    r"|mi|ci|il|mio|numero|nummer|meine|mon|notre|番号|号码|は|号){0,8}"
)
PHONES: Final = (
    # First, any digits the text itself calls a phone number: "call me on 5551234567", "電話: 090...".
    _PhoneShape(_compile(rf"(?:{_CUES}){_CUE_GAP}(\+?\(?\d[\d\s.,\-/()]{{5,30}}\d)"), 7, 15, with_cue=True),
    # International: +44 20 7946 0958, +1 (555) 123-4567, 0049 30 1234567.
    _shape(r"(?:\+\s*|00)[1-9](?:[\s.\-/]{0,3}\(?\d+\)?){1,8}", 8, 15),
    # North American: (555) 123-4567, 555.123.4567, 555 123 4567.
    _shape(r"(?:\(\d{3}\)\s*\d{3}[\s.\-]?|\d{3}[\s.\-]\d{3}[\s.\-])\d{4}", 10, 10),
    # National with a trunk 0: 020 7946 0958, 0171-1234567, 06 12 34 56 78, 090-1234-5678.
    _shape(r"0[1-9]\d{0,4}(?:[\s.\-/]\d{2,8}){1,4}", 9, 12),
    _shape(r"\(0\d{1,4}\)\s?\d{3,4}[\s.\-]?\d{3,4}", 9, 12),
    _shape(r"0[1-9]\d{8,9}", 10, 11),
    # Chinese mobile: 138 0013 8000.
    _shape(r"1[3-9]\d(?:[\s\-]?\d{4}){2}", 11, 11),
)
# Messenger ids are contact details too: "微信: shop888", "LINE ID: shop123", "telegram: @myshop".
MESSENGER_ID: Final = _compile(
    r"(?:微信|威信|vx|wx|wechat|qq|line\s*id|ライン\s*id|ラインid|telegram|skype|加\s*v)\s*(?:号|id)?\s*:?\s*@?[a-z0-9_\-]{5,}"
)


@dataclass(frozen=True)
class ContactDetails:
    emails: tuple[str, ...]
    links: tuple[str, ...]
    phones: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.emails or self.links or self.phones)

    @property
    def all(self) -> tuple[str, ...]:
        return self.emails + self.links + self.phones


def _strip(text: str) -> str:
    return text.strip(" \n.,;:!?()[]{}\"'<>")


def find_contact_details(folded: str) -> ContactDetails:
    """Every e-mail address, link and phone number in text folded with its case kept (`fold(text,
    casefold=False)`); a link inside an address is the address's."""
    text = _unspace(_SPACED_LETTERS, folded)
    emails = tuple(map(_strip, matches(EMAIL, text)))
    rest = blank(EMAIL, text, b" ")
    links = tuple(map(_strip, matches(LINK, blank(_NOT_LINKS, rest, b" "))))
    return ContactDetails(emails, links, tuple(find_phone_numbers(rest)))


def find_phone_numbers(folded: str) -> list[str]:
    """Phone numbers and messenger ids; numbers named as order, part or model numbers are left out."""
    text = _spelled_digits(folded).translate(_KANJI_DIGITS)
    text = blank(_REFERENCE, _unspace(_SPACED_DIGITS, text), b" ")
    numbers = [_strip(match) for match in matches(MESSENGER_ID, text)]
    data, seen = text.encode("utf-8", "surrogatepass"), list[tuple[int, int]]()
    for shape in PHONES:
        # A bounded number of candidates: enough to name a breach, and a text of 50,000 digit groups
        # costs one RE2 pass per shape, not 50,000 Python steps.
        for spans in islice(byte_spans(shape.pattern, data), 50):
            number = data[spans[1][0] : spans[1][1]].decode("utf-8", "surrogatepass")
            digits = sum(char.isdigit() for char in number)
            (start, end) = spans[1]
            if shape.min_digits <= digits <= shape.max_digits and not any(a < end and start < b for a, b in seen):
                seen.append(spans[1])
                shown = spans[0] if shape.with_cue else spans[1]
                numbers.append(_strip(data[shown[0] : shown[1]].decode("utf-8", "surrogatepass")))
                break
    return numbers


def host_of(link: str) -> str:
    """The host a link points to, disguised dots undone: "www . shop . com" -> www.shop.com."""
    rest = str(_SCHEME_PREFIX.sub("", link))
    authority = _AUTHORITY_END.split(rest, maxsplit=1)[0].rsplit("@", 1)[-1]  # "ours@evil.com" goes to evil.com
    host = _DOT_SEPARATOR.sub(".", authority).split(":", 1)[0]
    return str(_SPACE.sub("", host)).strip(".,;!?)('\"")


def foreign_links(details: ContactDetails, allowed_domains: tuple[str, ...]) -> list[str]:
    """The links to a host outside the allowed domains and their subdomains."""
    allowed = tuple(domain.lower().strip(".") for domain in allowed_domains)
    return [
        link for link in details.links
        if not any((host := host_of(link)) == domain or host.endswith("." + domain) for domain in allowed)
    ]


