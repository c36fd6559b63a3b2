"""Text as a content rule sees it, and phrase patterns that hold against disguises, in linear time.

`fold` undoes the cheap disguises once: NFKC (full-width and mathematical letters), casefold, no
format characters (zero-width spaces, joiners, bidi controls, soft hyphens) or combining marks,
confusable letters (Cyrillic, Greek, Latin look-alikes: Unicode TR39, from `confusable-homoglyphs`)
folded to their Latin letter, accents stripped ("rezension" for "Rezénsion"), star symbols as words.

`phrases` compiles a rule's phrases into one RE2 pattern (google-re2: a finite automaton, never
backtracking, so every check is linear in the text). A phrase word matches across the tricks that
keep it readable: letters spaced or dotted out ("f r e e", "f.r.e.e", "fr-ee"), leetspeak digits
("fr33"), and words run together ("freeshipping"); it must start and end at a real word boundary,
so "carefree shipping" is not "free shipping". No stdlib `re` runs on user text.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from itertools import islice
from typing import Any, Final, Protocol, cast

import re2

#: RE2's default 8 MB would push the larger rule automata onto the slower (still linear) NFA.
_OPTIONS: Final = re2.Options()
_OPTIONS.max_mem = 64 << 20


class Pattern(Protocol):
    """What the rules use of an RE2 pattern (`re2._Regexp`: the `re2` module ships no type hints)."""

    _regexp: Any
    groups: int

    def search(self, text: str) -> Any: ...
    def finditer(self, text: str) -> Iterator[Any]: ...
    def fullmatch(self, text: str) -> Any: ...
    def sub(self, repl: str, text: str) -> str: ...
    def split(self, text: str, maxsplit: int = 0) -> list[str]: ...


def compile_re2(pattern: str) -> Pattern:
    """An RE2 pattern (linear-time matching) for folded text."""
    return cast(Pattern, re2.compile(pattern, options=_OPTIONS))


# --- folding -------------------------------------------------------------------------------------

# Scripts that confusables would wrongly fold (the ideographic zero is no Latin O in a phone number).
_CJK_RANGES: Final = ((0x2E80, 0xA4CF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF61, 0xFFDC))
_STARS: Final = "\u2605\u2606\u2729\u272a\u272b\u272c\u272d\u272e\u272f\u2730\u2b50\U0001f31f"
# Blank characters that are letters or symbols, not spaces: a title of them shows nothing.
_BLANKS: Final = "\u115f\u1160\u3164\uffa0\u2800"


def _is_cjk(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in _CJK_RANGES)


def _confusables() -> dict[int, str]:
    """Non-ASCII look-alikes of ASCII letters and digits (TR39), letters winning over digits."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table: dict[int, str] = {}
    for target in sorted(data, key=lambda key: key.isdigit()):  # letters first: Cyrillic o is o, not 0
        if len(target) != 1 or not target.isascii() or not target.isalnum():
            continue
        for entry in data[target]:
            char = entry["c"]
            if len(char) == 1 and not char.isascii() and not _is_cjk(char):
                table.setdefault(ord(char), target.lower())
    return table


def _latin_base(char: str) -> str | None:
    """The plain letter of a Latin letter that has no decomposition: f with a hook, a small capital s."""
    words = unicodedata.name(char, "").split()
    if words[:1] != ["LATIN"] or "LETTER" not in words:
        return None
    rest = [word for word in words[words.index("LETTER") + 1 :] if word not in ("SMALL", "CAPITAL")]
    if rest[:1] and len(rest[0]) == 1 and rest[0].isalpha() and (len(rest) == 1 or rest[1] == "WITH"):
        return rest[0].lower()
    return None


def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    table.update(_confusables())
    for code in [*range(0x180, 0x2B0), *range(0x1D00, 0x1DC0), *range(0x2C60, 0x2C80), *range(0xA720, 0xA800)]:
        if (base := _latin_base(chr(code))) is not None:
            table.setdefault(code, base)
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:  # accented Latin: its base letter
        decomposed = unicodedata.normalize("NFD", chr(code))
        if len(decomposed) > 1 and decomposed[0].isascii():
            table[code] = decomposed[0]
    # Planes 0-3 hold every letter, digit and mark; plane 14 the tag characters (Cf) and variation selectors.
    for code in [*range(0x80, 0x40000), *range(0xE0000, 0xE1000)]:
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Cf", "Me") or (category == "Mn" and not _is_cjk(char)):
            table[code] = None  # zero-width, joiners, bidi controls, soft hyphen; combining and keycap marks
        elif category in ("Cc", "Cs"):
            table[code] = " "  # controls, and lone surrogates (which no UTF-8 encoder takes)
        elif category == "Nd":
            table[code] = str(unicodedata.digit(char))  # Arabic-Indic and every other decimal digit as ASCII
        elif category == "So":
            table.setdefault(code, "*")  # emoji and symbols between letters ("f🔥r🔥e🔥e") are punctuation
    table.update({code: " " for code in range(0x20) if chr(code) not in "\n\t"})
    table.update({ord(char): " " for char in _BLANKS + "\t"})
    table.update({ord(char): " star " for char in _STARS})
    table.update({ord(char): '"' for char in "\u201c\u201d\u201e\u00ab\u00bb\u300c\u300d"})
    table.update({ord(char): "'" for char in "\u2018\u2019\u201a\u00b4`"})
    table.update({ord("\u3002"): ".", ord("\u3001"): ",", ord("\u30fb"): ".", ord("\u00b7"): "."})
    # Punctuation between letters ("f•r•e•e", "n°1") as its ASCII kin: the phrase automata stay ASCII.
    table.update({ord(char): "." for char in "\u2026\u2022\u00b0\u2219\u25cf"})
    table.update({ord(char): "-" for char in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
    table.update({ord("\r"): "\n", 0x2028: "\n", 0x2029: "\n"})
    return table


#: Built once at import (~0.1 s), not in the first request that folds a text.
_TABLE: Final = _fold_table()


def fold(text: str, *, casefold: bool = True) -> str:
    """The text a rule matches: see the module docstring. Linear: three C-level passes.

    `casefold=False` keeps the case of plain letters (look-alikes still fold to lower case): a rule
    that tells "g.Net weight" (a typo) from "shop.net" (a link) needs it."""
    text = unicodedata.normalize("NFKC", text)
    return (text.casefold() if casefold else text).translate(_TABLE)


# --- phrase patterns ----------------------------------------------------------------------------

NOT_ALNUM: Final = r"[^\pL\pN]"
# Folded Latin text is ASCII: small classes keep the automata small (Unicode classes, copied into
# every letter of every phrase, would not compile).
_WORD_CHAR: Final = "[a-z0-9]"
_JUNK: Final = r"[ \n.,\-_*'\"~+|/\\:;!?#()\[\]{}<>=^%&]"
#: What may stand between two letters of one word: up to three non-letters ("f.r.e.e", "f - r - e - e").
_INSIDE: Final = _JUNK + "{0,3}"
#: What may stand between two words of a phrase: nothing ("freeshipping") or a little punctuation.
_BETWEEN: Final = _JUNK + "{0,4}"
#: A word, for gaps of a few words.
_ANY_WORD: Final = r"[^\s.!?;]+"
#: Leetspeak and symbol stand-ins for letters.
_LEET: Final = {
    "a": "a4@", "b": "b8", "e": "e3€", "g": "g9", "i": "i1!|l", "l": "l1|i", "o": "o0", "s": "s5$", "t": "t7+",
}
#: Stand-ins of more than one letter.
_LEET_SPELLINGS: Final = {"f": "ph"}


def _letter(char: str, *, starts: bool = False, ends: bool = False) -> str:
    """One letter with its leetspeak stand-ins; a word's first (last) letter must start (end) a word.

    The boundary is RE2's `\\b`, which consumes nothing, so two phrases may meet at one space. A
    stand-in that is a symbol ("$ale") needs no boundary: `\\b` is never true before a symbol."""
    if not char.isascii() or not char.isalnum():
        return str(re2.escape(char))
    letters = "".join(stand_in for stand_in in _LEET.get(char, char) if stand_in.isalnum())
    symbols = "".join(stand_in for stand_in in _LEET.get(char, char) if not stand_in.isalnum())
    if char in _LEET_SPELLINGS:
        letters = f"(?:{letters}|{_LEET_SPELLINGS[char]})"
    elif len(letters) > 1:
        letters = f"[{letters}]"
    word = ("\\b" if starts else "") + letters + ("\\b" if ends else "")
    return f"(?:{word}|[{symbols}])" if symbols else word


def _literal(word: str, *, starts: bool = False, ends: bool = False) -> str:
    """One word, tolerant of spacing, punctuation and leetspeak between and for its letters."""
    last = len(word) - 1
    return _INSIDE.join(
        _letter(char, starts=starts and index == 0, ends=ends and index == last) for index, char in enumerate(word)
    )


def _word(token: str, *, starts: bool = False, ends: bool = False) -> str:
    """A phrase token: `a/b` alternatives, `stem*` any ending, `gift+card` words in one alternative,
    `_N` up to N words, `~regex` raw RE2. `starts`/`ends`: the token starts/ends the phrase."""
    if token.startswith("~"):
        return "(?:" + token[1:] + ")"
    if token.startswith("_") and token[1:].isdigit():
        return rf"(?:{_ANY_WORD}{_BETWEEN})" + "{0," + token[1:] + "}"
    alternatives = []
    for option in token.split("/"):
        stem, open_end = (option[:-1], True) if option.endswith("*") else (option, False)
        parts = stem.split("+")
        words = _BETWEEN.join(
            _literal(part, starts=starts and index == 0, ends=ends and index == len(parts) - 1 and not open_end)
            for index, part in enumerate(parts)
        )
        alternatives.append(words + (f"{_WORD_CHAR}*" + ("\\b" if ends else "") if open_end else ""))
    return "(?:" + "|".join(alternatives) + ")"


def phrase(text: str) -> str:
    """The RE2 source of one phrase (see `_word`), bounded by real word boundaries where it has them:
    a Latin word must start and end at one ("carefree shipping" is not "free shipping"); CJK has none."""
    tokens = text.split()
    body = ""
    for index, token in enumerate(tokens):
        if index and not tokens[index - 1].startswith("_"):
            body += _BETWEEN
        body += _word(token, starts=index == 0, ends=index == len(tokens) - 1)
    return f"(?:{body})"


def any_of(*sources: str) -> str:
    return "|".join(f"(?:{source})" for source in sources)


def near(a: str, b: str, *, stops: str = ".!?;\n", ordered: bool = False) -> str:
    """a then b, or (unless `ordered`) b then a, with no `stops` character between them: in one sentence.

    The gap is unbounded: a counted one ({0,100}) would multiply the automaton's states."""
    gap = "[^" + stops.replace("\n", "\\n") + "]*"
    return f"(?:{a}){gap}(?:{b})" + ("" if ordered else f"|(?:{b}){gap}(?:{a})")


def phrases(*texts: str) -> str:
    """Several phrases as one alternation (RE2 source)."""
    return any_of(*(phrase(text) for text in texts))


def compile_phrases(*texts: str) -> Pattern:
    return compile_re2(phrases(*texts))


def _trimmed(match: str) -> str:
    return match.strip(" \n.,;:!?()[]{}\"'-~")


_UNANCHORED: Final = re2._re2.RE2.Anchor.UNANCHORED


def byte_spans(pattern: Pattern, data: bytes) -> Iterator[list[tuple[int, int]]]:
    """The spans (whole match, then each group) of every match in UTF-8 `data`, in byte offsets.

    RE2's own loop: the `re2` module's `finditer` and `sub` spend ~20 us of Python per match on
    offset bookkeeping, which a text of 50,000 matches would feel."""
    regexp, position, end = pattern._regexp, 0, len(data)
    while position <= end:
        spans = regexp.Match(_UNANCHORED, data, position, end)
        if spans[0][0] < 0:
            return
        yield spans
        position = spans[0][1] if spans[0][1] > position else position + 1


def substitute(pattern: Pattern, text: str, replace: Callable[[bytes, list[tuple[int, int]]], bytes]) -> str:
    """`text` with every match replaced by `replace(data, spans)` (see `byte_spans`)."""
    data = text.encode("utf-8", "surrogatepass")
    pieces, last = [], 0
    for spans in byte_spans(pattern, data):
        pieces += [data[last : spans[0][0]], replace(data, spans)]
        last = spans[0][1]
    if not pieces:
        return text
    pieces.append(data[last:])
    return b"".join(pieces).decode("utf-8", "surrogatepass")


def blank(pattern: Pattern, text: str, fill: bytes = b"~") -> str:
    """Every match of `pattern` turned into `fill` characters, one a byte: what no rule matches."""
    return substitute(pattern, text, lambda data, spans: fill * (spans[0][1] - spans[0][0]))


def matches(pattern: Pattern, text: str, limit: int = 20) -> list[str]:
    """The first `limit` matches (group 1 if the pattern has one), as text: enough to name a breach."""
    data = text.encode("utf-8", "surrogatepass")
    group = 1 if pattern.groups else 0
    return [
        data[spans[group][0] : spans[group][1]].decode("utf-8", "surrogatepass")
        for spans in islice(byte_spans(pattern, data), limit)
        if spans[group][0] >= 0
    ]


class AnyOf:
    """Any of several patterns: kept apart so that each automaton stays small."""

    def __init__(self, *parts: Pattern) -> None:
        self.parts = parts

    def search(self, text: str) -> bool:
        return any(part.search(text) for part in self.parts)


def found(pattern: Pattern | AnyOf, text: str, limit: int = 20) -> list[str]:
    """What `pattern` matches in `text`, trimmed of the boundary characters, each once, in text order."""
    parts = pattern.parts if isinstance(pattern, AnyOf) else (pattern,)
    return list(dict.fromkeys(_trimmed(match) for part in parts for match in matches(part, text, limit)))


def in_original(original: str, folded: str, matches: Iterable[str]) -> list[str]:
    """Matches as the seller wrote them where folding kept every position (plain text), else folded."""
    if len(original) != len(folded):
        return list(matches)
    shown = []
    for match in matches:
        at = folded.find(match)
        shown.append(original[at : at + len(match)] if at >= 0 else match)
    return shown
