"""Finding a quote in a snapshot's text: exactly, after normalising, or the closest passage.

The outcome names how far the words had to be bent to be found:
- exact: the quote is in the text as it is;
- normalised: it is, once both are in Unicode NFKC (ligatures, composed accents) and runs
  of white space, quote marks (straight, curly, guillemets), dashes and hyphens, and an
  ellipsis (… or ...) are each taken as one;
- close: a passage scores at least settings.QUOTE_CLOSE_SCORE (0 to 100, rapidfuzz's
  partial ratio: the best alignment of the quote with a passage of the text, by edit
  distance);
- not_found: no passage does; the closest one is still given, so that an editor sees
  what the source says instead.

Each result gives the passage as a W3C Web Annotation TextQuoteSelector (exact, prefix,
suffix: up to CONTEXT characters either side) and its position in the text
(TextPositionSelector: start, end), so that a page can show the quote in its context.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from rapidfuzz import fuzz

# Characters of one kind, each taken as the other when normalising.
QUOTE_MARKS = (
    "\"'`\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2039\u203a\u2032\u2033"
)
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
ELLIPSIS = "\u2026"

# Context kept either side of a passage (the W3C recommends enough to disambiguate;
# Hypothesis keeps 32).
CONTEXT = 32

_QUOTE_CLASS = "[" + re.escape(QUOTE_MARKS) + "]"
_DASH_CLASS = "[" + re.escape(DASHES) + "]"
_ELLIPSIS = r"(?:\u2026|\.\.\.)"
_PIECES = re.compile(r"(\s+)|(\.\.\.|\u2026)|(.)", re.DOTALL)

# One character for another, the same length, so that positions in the folded text are
# positions in the text (for the fuzzy search).
_FOLD = str.maketrans(
    {
        **dict.fromkeys(QUOTE_MARKS, "'"),
        **dict.fromkeys(DASHES, "-"),
        **dict.fromkeys("\t\n\r\x0b\x0c\xa0\u2007\u202f\u3000", " "),
    }
)


class QuoteOutcome(models.TextChoices):
    EXACT = "exact", "Found as quoted"
    NORMALISED = "normalised", "Found, but for spaces, quote marks or dashes"
    CLOSE = "close", "A close passage found"
    NOT_FOUND = "not_found", "Not found"
    # A new snapshot came; its check is queued (claims.tasks.recheck_quotes). Never a
    # result of find_quote: what a reader is told until the check is done.
    CHECKING = "checking", "Being checked"


@dataclass(frozen=True)
class Match:
    outcome: QuoteOutcome
    score: int  # 0 to 100; 100 when found exactly or normalised
    start: int  # the passage's place in the text: text[start:end]
    end: int
    exact: str  # TextQuoteSelector
    prefix: str
    suffix: str


def pattern(quote: str) -> re.Pattern[str]:
    """A regular expression finding the quote in a text, normalised (see the module)."""
    parts = []
    for space, ellipsis, char in _PIECES.findall(quote.strip()):
        if space:
            parts.append(r"\s+")
        elif ellipsis:
            parts.append(_ELLIPSIS)
        elif char in QUOTE_MARKS:
            parts.append(_QUOTE_CLASS)
        elif char in DASHES:
            parts.append(_DASH_CLASS)
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts))


def normalised(text: str) -> str:
    """The text as pattern() reads it: white space, quote marks, dashes and ellipses each
    made one."""
    return " ".join(text.translate(_FOLD).replace(ELLIPSIS, "...").split())


# A snapshot's text is read for each of its citations: its folded forms are kept for the
# last few texts (a str caches its hash, so finding one again costs nothing).
_normalised_text = functools.lru_cache(maxsize=8)(normalised)


@functools.lru_cache(maxsize=8)
def _folded(text: str) -> str:
    return text.translate(_FOLD)


def find_quote(quote: str, text: str) -> Match | None:
    """Where `quote` is in `text`, or the closest passage; None for a blank quote."""
    if not quote.strip():
        return None
    start = text.find(quote)
    if start >= 0:
        return _match(QuoteOutcome.EXACT, 100, text, start, start + len(quote))
    # Compared as Unicode NFKC, as snapshots' texts are stored (sources.snapshots): a
    # decomposed accent or a ligature is the letters it shows.
    quote = unicodedata.normalize("NFKC", quote)
    # Whether it is there normalised is a substring test; where, a regular expression
    # (compiling one costs more than the test, so only for a quote that is there).
    if normalised(quote) in _normalised_text(text):
        found = pattern(quote).search(text)
        if found:
            return _match(QuoteOutcome.NORMALISED, 100, text, found.start(), found.end())
    folded_quote, folded = quote.strip().translate(_FOLD), _folded(text)
    best = _closest(folded_quote, folded)
    if best is None:
        return _match(QuoteOutcome.NOT_FOUND, 0, text, 0, 0)
    score, start, end = _whole_words(folded_quote, folded, best[1], min(best[2], len(text)))
    outcome = QuoteOutcome.CLOSE if score >= settings.QUOTE_CLOSE_SCORE else QuoteOutcome.NOT_FOUND
    return _match(outcome, score, text, start, end)


# Past this many character comparisons (quote length times text length) the closest
# passage is looked for only where the quote's words are densest: rapidfuzz's partial
# ratio takes time in proportion to both (about 1.7 s for 2,000 characters in 200,000).
DIRECT_LIMIT = 20_000_000
REGIONS = 5
# Quotes longer than this are aligned at word starts only, the first LONG_STARTS of each
# region: their time grows with the square of their length.
LONG_QUOTE = 500
LONG_STARTS = 60
# The passages to align a quote with in a long text are found from where its words are:
# its QUOTE_WORDS longest words, the rarest in the text first, at most MAX_PLACES places
# (word_places): whatever the text's length, what is done per place is bounded.
QUOTE_WORDS = 12
MAX_PLACES = 20_000
_WORD = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")


def _closest(quote: str, text: str) -> tuple[float, int, int] | None:
    """(score, start, end) of the passage most like the quote, before _whole_words."""
    best: tuple[float, int, int] | None = None
    for low, high, anchor in _regions(quote, text):
        if len(quote) > LONG_QUOTE:
            # A long quote is compared with the passage of its own length at the word
            # starts around where its words are densest (partial_ratio would compare every
            # window, in time growing with the square of the quote's length).
            starts = [m.start() for m in _WORD.finditer(text, low, high)]
            nearest = sorted(starts, key=lambda i: abs(i - anchor))[:LONG_STARTS]
            for start in nearest or [low]:
                end = min(len(text), start + len(quote))
                score = fuzz.ratio(quote, text[start:end])
                if best is None or score > best[0]:
                    best = (score, start, end)
            continue
        aligned = fuzz.partial_ratio_alignment(quote, text[low:high])
        if aligned is not None and (best is None or aligned.score > best[0]):
            best = (aligned.score, low + aligned.dest_start, low + aligned.dest_end)
    return best


def _regions(quote: str, text: str) -> list[tuple[int, int, int]]:
    """Where in the text to align the quote, (low, high, the likeliest start): all of it
    when that is cheap enough, else the REGIONS stretches (each three quotes long)
    holding most of the quote's rarest words (word_places)."""
    if len(quote) <= LONG_QUOTE and len(quote) * len(text) <= DIRECT_LIMIT:
        return [(0, len(text), 0)]
    places = word_places(quote, text)
    if not places:
        return [(0, min(len(text), 3 * len(quote)), 0)]
    # How many of the places are within a quote's length after each one (two pointers).
    density, ahead = [], 0
    for i, start in enumerate(places):
        while ahead < len(places) and places[ahead] < start + len(quote):
            ahead += 1
        density.append(ahead - i)
    chosen: list[tuple[int, int, int]] = []
    for i in sorted(range(len(places)), key=lambda i: density[i], reverse=True):
        start = places[i]
        low, high = max(0, start - len(quote)), min(len(text), start + 2 * len(quote))
        if all(high <= a or low >= b for a, b, _ in chosen):
            chosen.append((low, high, start))
            if len(chosen) == REGIONS:
                break
    return chosen


def word_places(quote: str, text: str) -> list[int]:
    """Where the quote's rarest words start in the text, in order: at most MAX_PLACES of
    them, found by at most 2 * QUOTE_WORDS scans of the text in C (str.count, str.find),
    so that a check's cost grows with the text's length once, and the rest is bounded."""
    words = sorted(set(_WORD.findall(quote)), key=lambda w: (-len(w), w))[:QUOTE_WORDS]
    counts = {word: text.count(word) for word in words}  # an upper bound: "the" in "then"
    chosen: list[str] = []
    total = 0
    for word in sorted((w for w in words if counts[w]), key=counts.__getitem__):
        if chosen and total + counts[word] > MAX_PLACES:
            break
        chosen.append(word)
        total += counts[word]
    places: list[int] = []
    found = 0  # occurrences looked at, whole words or not
    for word in chosen:
        at = text.find(word)
        while at >= 0 and found < MAX_PLACES:
            found += 1
            end = at + len(word)
            if (at == 0 or not _WORD_CHAR.match(text[at - 1])) and not _WORD_CHAR.match(
                text[end : end + 1]
            ):
                places.append(at)
            at = text.find(word, end)
    return sorted(places)


def _whole_words(quote: str, text: str, start: int, end: int) -> tuple[int, int, int]:
    """The passage near text[start:end] that starts and ends at word boundaries and is
    most like the quote, with its score (rapidfuzz's ratio, rounded down: 89.9 is not 90).
    The partial ratio's window is as long as the quote and may cut words in two."""
    margin = min(40, max(8, len(quote) // 4))
    low, high = max(0, start - margin), min(len(text), end + margin)
    starts = [i for i in range(low, min(start + margin, high)) if _starts_word(text, i)][:12]
    ends = [i for i in range(max(low, end - margin), high + 1) if _ends_word(text, i)][-12:]
    best = (fuzz.ratio(quote, text[start:end]), -(end - start), start, end)
    for left in starts:
        for right in ends:
            if right > left:
                candidate = text[left:right]
                best = max(best, (fuzz.ratio(quote, candidate), -(right - left), left, right))
    score, _, start, end = best
    return int(score), start, end


def _starts_word(text: str, i: int) -> bool:
    return not text[i].isspace() and (i == 0 or text[i - 1].isspace())


def _ends_word(text: str, i: int) -> bool:
    return i > 0 and not text[i - 1].isspace() and (i == len(text) or text[i].isspace())


def _match(outcome: QuoteOutcome, score: int, text: str, start: int, end: int) -> Match:
    return Match(
        outcome=outcome,
        score=score,
        start=start,
        end=end,
        exact=text[start:end],
        prefix=text[max(0, start - CONTEXT) : start],
        suffix=text[end : end + CONTEXT],
    )
