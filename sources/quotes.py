"""Finding a quote in a snapshot's text: exactly, after normalising, or the closest passage.

The outcome names how far the words had to be bent to be found:
- exact: the quote is in the text as it is;
- normalised: it is, once runs of white space, quote marks (straight, curly, guillemets),
  dashes and hyphens, and an ellipsis (… or ...) are each taken as one;
- close: a passage scores at least settings.QUOTE_CLOSE_SCORE (0 to 100, rapidfuzz's
  partial ratio: the best alignment of the quote with a passage of the text, by edit
  distance);
- not_found: no passage does; the closest one is still given, so that an editor sees
  what the source says instead.

Each result gives the passage as a W3C Web Annotation TextQuoteSelector (exact, prefix,
suffix: up to CONTEXT characters either side) and its position in the text
(TextPositionSelector: start, end), so that a page can show the quote in its context.
"""

import re
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


def find_quote(quote: str, text: str) -> Match | None:
    """Where `quote` is in `text`, or the closest passage; None for a blank quote."""
    if not quote.strip():
        return None
    start = text.find(quote)
    if start >= 0:
        return _match(QuoteOutcome.EXACT, 100, text, start, start + len(quote))
    found = pattern(quote).search(text)
    if found:
        return _match(QuoteOutcome.NORMALISED, 100, text, found.start(), found.end())
    closest = fuzz.partial_ratio_alignment(quote.strip().translate(_FOLD), text.translate(_FOLD))
    if closest is None:  # only with a score_cutoff, which is not given
        return _match(QuoteOutcome.NOT_FOUND, 0, text, 0, 0)
    score = int(closest.score)  # rounded down: 89.9 is not 90
    outcome = QuoteOutcome.CLOSE if score >= settings.QUOTE_CLOSE_SCORE else QuoteOutcome.NOT_FOUND
    start, end = closest.dest_start, min(closest.dest_end, len(text))
    return _match(outcome, score, text, start, end)


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
