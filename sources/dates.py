"""Fuzzy dates: the wording an editor typed, its EDTF value, and the calendar range it can mean.

Newsroom dates are rarely exact ("2014", "end of 2018", "May and September 2019"). We keep
three things for each: the words as written, a normalized value in the Library of Congress
Extended Date/Time Format (EDTF), and the earliest and latest calendar days it can mean, so
dates sort and range-filter correctly (a filter for 2018 finds "end of 2018").

The `edtf` package parses EDTF fully and computes the bounds. Its natural-language reader is
too loose for evidence work (it reads "end of 2018" as all of 2018, and "yesterday" as
whenever the code runs), so the phrases newsrooms use are read here, deterministically, and
anything else must be EDTF already.
"""

import calendar
import functools
import re
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from edtf import parse_edtf


class FuzzyDateError(ValueError):
    """The text is neither a phrase we understand nor a valid EDTF value."""


@dataclass(frozen=True)
class FuzzyDate:
    edtf: str
    earliest: date | None
    latest: date | None


EXAMPLES = '"2014", "end of 2018", "July 31, 2019", "May and September 2019", "circa 2017"'

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_SEASONS = {"spring": 21, "summer": 22, "autumn": 23, "fall": 23, "winter": 24}
# EDTF level 2 "seasons" 33-36 are quarters, 40-41 are halves of the year.
_PARTS = {
    "q1": 33,
    "first quarter": 33,
    "q2": 34,
    "second quarter": 34,
    "q3": 35,
    "third quarter": 35,
    "q4": 36,
    "fourth quarter": 36,
    "last quarter": 36,
    "first half": 40,
    "second half": 41,
    # "end of 2018" and "late 2018" read as the last quarter, "early" as the first.
    "end": 36,
    "late": 36,
    "beginning": 33,
    "start": 33,
    "early": 33,
}
_APPROXIMATE = re.compile(
    r"^(?:circa|c\.|ca\.?|about|around|approximately|approx\.)\s*(?P<rest>.+)$"
)
_MONTH = r"(?P<month>[a-z]+)\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^{_MONTH} {_DAY},? {_YEAR}$"), "day"),
    (re.compile(rf"^{_DAY} {_MONTH},? {_YEAR}$"), "day"),
    (re.compile(rf"^{_MONTH},? {_YEAR}$"), "month"),
    (re.compile(r"^(?:the )?(?P<decade>\d{3})0'?s$"), "decade"),
    (re.compile(rf"^(?:the )?(?P<part>[a-z0-9 ]+?)(?: of|,)? {_YEAR}$"), "part"),
    (re.compile(rf"^{_YEAR},? (?P<part>q[1-4])$"), "part"),
    (re.compile(rf"^mid-? ?{_YEAR}$"), "mid"),
    (
        re.compile(r"^(?:(?P<months>[a-z., ]+?),? and )(?P<last>[a-z]+)\.?,? (?P<year>\d{4})$"),
        "months",
    ),
    (re.compile(r"^(?P<first>\d{4}) and (?P<second>\d{4})$"), "years"),
    (re.compile(r"^(?:between )?(?P<start>.+?) and (?P<end>.+)$"), "between"),
    (re.compile(r"^(?:from )?(?P<start>.+?)(?: to | ?[-\u2013\u2014] ?)(?P<end>.+)$"), "range"),
    (re.compile(rf"^{_MONTH} {_DAY}$"), "no-year"),
]


def parse_fuzzy_date(text: str) -> FuzzyDate:
    """Read a phrase or an EDTF value; return its EDTF value and calendar bounds."""
    value = to_edtf(text)
    earliest, latest = edtf_bounds(value)
    return FuzzyDate(edtf=value, earliest=earliest, latest=latest)


# The EDTF grammar is a large pyparsing grammar (about 10 ms a parse); imports and lists
# repeat the same few dates, so remember recent answers.
@functools.lru_cache(maxsize=4096)
def to_edtf(text: str) -> str:
    """Turn the wording of a date into an EDTF value, or raise FuzzyDateError."""
    phrase = " ".join(text.split())
    if not phrase:
        raise FuzzyDateError("Enter a date.")
    if _is_edtf(phrase):
        return phrase
    if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", phrase):
        # Written as a day, but none the calendar has: said as for "February 30, 2019".
        try:
            date(*map(int, match.groups()))
        except ValueError:
            raise FuzzyDateError(f'"{text}" is not a day in the calendar.') from None
    phrase = phrase.lower().rstrip(".")
    if match := _APPROXIMATE.match(phrase):
        inner = to_edtf(match["rest"])
        if not re.fullmatch(r"-?\d{4}(?:-\d{2}){0,2}", inner):
            raise FuzzyDateError(f'"circa" works with a single year, month or day, not "{text}".')
        return inner + "~"
    for pattern, kind in _PATTERNS:
        if match := pattern.match(phrase):
            value = _from_match(kind, match, text)
            if value is not None and _is_edtf(value):
                return value
    raise FuzzyDateError(
        f'"{_shorten(text)}" is not a date we can read. Write it like {EXAMPLES}, '
        "or enter an EDTF value such as 2018-36 or {2019-05,2019-09}."
    )


@functools.lru_cache(maxsize=4096)
def edtf_bounds(value: str) -> tuple[date | None, date | None]:
    """The earliest and latest calendar days an EDTF value can mean (None: open-ended)."""
    try:
        parsed = _parsed(value)
    except Exception as error:  # the parser raises several kinds of errors on bad input
        raise FuzzyDateError(f'"{_shorten(value)}" is not a valid EDTF value.') from error
    if "XXXX" in value.upper():
        raise FuzzyDateError(f'"{value}" has no year; enter the year so the date can be sorted.')
    try:
        earliest = _to_date(parsed.lower_fuzzy(), value)
        latest = _to_date(parsed.upper_fuzzy(), value)
    except FuzzyDateError:
        raise
    except Exception as error:
        # The grammar takes digits left unspecified inside a day or a month ("2019-1X-31"),
        # which no calendar day answers; whatever else the bounds code cannot place is
        # refused in the same words (tests/sources/test_dates.py tries 10,000 values).
        raise FuzzyDateError(
            f'"{_shorten(value)}" cannot be placed on the calendar: use X only for a whole '
            "part (2019-XX, 2019-12-XX), or give a range such as 2019-10/2019-12."
        ) from error
    if earliest is not None and latest is not None and earliest > latest:
        raise FuzzyDateError(
            f'"{_shorten(value)}" ends before it starts: put the earlier date first.'
        )
    return earliest, latest


def _is_edtf(value: str) -> bool:
    try:
        _parsed(value)
    except Exception:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _parsed(value: str) -> Any:
    """The EDTF grammar's reading of `value` (to_edtf, then edtf_bounds: parsed once)."""
    return parse_edtf(value)


def _from_match(kind: str, match: re.Match[str], text: str) -> str | None:
    groups = match.groupdict()
    if kind == "no-year" and groups["month"] in _MONTHS:
        raise FuzzyDateError(
            f'"{text}" has no year. Add it ("{text.strip()}, 2019"), or enter the EDTF value '
            "by hand if the year is known from context."
        )
    if kind == "day" and groups["month"] in _MONTHS:
        year, month, day = int(groups["year"]), _MONTHS[groups["month"]], int(groups["day"])
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            raise FuzzyDateError(f'"{text}" is not a day in the calendar.') from None
    if kind == "month" and groups["month"] in _MONTHS:
        return f"{groups['year']}-{_MONTHS[groups['month']]:02d}"
    if kind == "decade":
        return f"{groups['decade']}X"
    if kind == "part":
        part = groups["part"].strip()
        code = _SEASONS.get(part) or _PARTS.get(part)
        return f"{groups['year']}-{code}" if code else None
    if kind == "mid":
        return f"{groups['year']}-05/{groups['year']}-08"
    if kind == "months":
        names = [name for name in re.split(r"[ ,]+", groups["months"]) if name] + [groups["last"]]
        names = [name.rstrip(".") for name in names]
        if all(name in _MONTHS for name in names):
            months = sorted({_MONTHS[name] for name in names})
            return "{" + ",".join(f"{groups['year']}-{month:02d}" for month in months) + "}"
        return None
    if kind == "years":
        return "{" + groups["first"] + "," + groups["second"] + "}"
    if kind in ("between", "range"):
        try:
            start, end = to_edtf(groups["start"]), to_edtf(groups["end"])
        except FuzzyDateError:
            return None
        if "/" in start or "/" in end or "{" in start or "{" in end:
            return None
        return f"{start}/{end}"
    return None


def _to_date(bound: time.struct_time | float, value: str) -> date | None:
    if isinstance(bound, float):  # +/- infinity: an open-ended interval such as "2018/.."
        return None
    try:
        return date(bound.tm_year, bound.tm_mon, bound.tm_mday)
    except ValueError:
        raise FuzzyDateError(
            f'"{_shorten(value)}" falls outside the years 1 to 9999, which Claimtrail can sort.'
        ) from None


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Reading pages show dates as people write them, never as EDTF: "26 Sept. 2019", "end of
# 2018", "31 July (year uncertain, probably 2019)". Month names as newsrooms abbreviate
# them (AP style, as Django's "N" date format writes them).
_MONTH_NAMES = {
    1: "Jan.",
    2: "Feb.",
    3: "March",
    4: "April",
    5: "May",
    6: "June",
    7: "July",
    8: "Aug.",
    9: "Sept.",
    10: "Oct.",
    11: "Nov.",
    12: "Dec.",
}
_FULL_MONTHS = {number: name for number, name in enumerate(calendar.month_name) if name}
_SUB_YEARS = {
    21: "spring",
    22: "summer",
    23: "autumn",
    24: "winter",
    33: "first quarter of",
    34: "second quarter of",
    35: "third quarter of",
    36: "last quarter of",
    40: "first half of",
    41: "second half of",
}
_SINGLE = re.compile(
    r"^(?P<year>\d{4})(?P<q>[?~%]?)(?:-(?P<month>\d{2}))?(?:-(?P<day>\d{2}))?(?P<whole>[?~%]?)$"
)


def readable_date(text: str, edtf: str) -> str:
    """A date for a reading page: the editor's wording when it is words with a year in
    them ("end of 2018"), else written out from the EDTF value. Every result names its
    year, or says the year is uncertain and which it probably is."""
    wording = " ".join(text.split())
    if re.search(r"[a-z]", wording, re.IGNORECASE) and re.search(r"\b\d{4}\b", wording):
        return wording
    if written := _written(edtf):
        return written
    if re.search(r"\b\d{4}\b", wording) and not _is_edtf(wording):
        return wording
    try:
        earliest, latest = edtf_bounds(edtf)
    except FuzzyDateError:
        return wording
    days = [_day(bound) for bound in (earliest, latest)]
    if days[0] and days[1]:
        return days[0] if days[0] == days[1] else f"between {days[0]} and {days[1]}"
    return f"{days[0]} or later" if days[0] else f"{days[1]} or earlier"


def _day(day: date | None) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month]} {day.year}" if day else ""


def _written(value: str) -> str | None:
    if decade := re.fullmatch(r"(\d{2,3})X{1,2}", value):
        digits = decade[1]
        return f"the {digits}{'0' * (4 - len(digits))}s"
    if single := _single(value):
        words, year, qualifier = single
        return _qualified(words, year, qualifier)
    if value.startswith(("{", "[")) and value.endswith(("}", "]")):
        parts = [part for text in value[1:-1].split(",") if (part := _single(text))]
        years = {(year, qualifier) for _, year, qualifier in parts}
        if len(parts) != value.count(",") + 1:
            return None
        joined = " and " if value[0] == "{" else " or "
        if len(years) != 1:  # each with its own year: "May 2019 and Sept. 2020"
            whole = [_qualified(*part) for part in parts]
            return ", ".join(whole[:-1]) + joined + whole[-1]
        names = [words for words, _, _ in parts]
        words = ", ".join(names[:-1]) + joined + names[-1] if len(names) > 1 else names[0]
        [(year, qualifier)] = years
        return _qualified(words, year, qualifier)
    if "/" in value:
        start, end = value.split("/", 1)
        first, last = (_written(part) if part not in ("", "..") else None for part in (start, end))
        if first and last:
            return f"from {first} to {last}"
        if first and end in ("", ".."):
            return f"{first} or later"
        if last and start in ("", ".."):
            return f"{last} or earlier"
    return None


def _single(value: str) -> tuple[str, str, str] | None:
    """(the date without its year, the year, its qualifier) of a single EDTF date."""
    match = _SINGLE.match(value)
    if not match:
        return None
    month, day = int(match["month"] or 0), int(match["day"] or 0)
    if month > 12:
        if month not in _SUB_YEARS:
            return None
        return _SUB_YEARS[month], match["year"], match["q"]
    if month and day:
        words = f"{day} {_MONTH_NAMES[month]}"
    elif month:
        words = _FULL_MONTHS[month]
    else:
        words = ""
    return words, match["year"], match["q"] or match["whole"]


def _qualified(words: str, year: str, qualifier: str) -> str:
    if not qualifier:
        return f"{words} {year}".strip()
    if qualifier == "~":
        return f"about {words} {year}".replace("  ", " ")
    if not words:
        return f"probably {year}" if qualifier == "?" else f"about {year}, uncertain"
    return f"{words} (year uncertain, probably {year})"
