"""Fuzzy dates: the wording an editor typed, its EDTF value, and the calendar range it can mean.

Newsroom dates are rarely exact ("2014", "end of 2018", "May and September 2019"). We keep
three things for each: the words as written, a normalized value in the Library of Congress
Extended Date/Time Format (EDTF), and the earliest and latest calendar days it can mean, so
dates sort and range-filter correctly (a filter for 2018 finds "end of 2018").

The `edtf` package parses EDTF fully. Its natural-language reader is too loose for evidence
work (it reads "end of 2018" as all of 2018, and "yesterday" as whenever the code runs), so
the phrases newsrooms use are read here, deterministically, and anything else must be EDTF
already.

The rule for qualifiers, the same wherever a date stands (alone, in a set {..} or [..], or
at either end of an interval a/b):

- `?` (uncertain) does not widen the range. "2019?" is our best reading of the source, and a
  filter for 2018 should not list what was probably said in 2019; the reading page still
  says "probably".
- `~` (approximate) widens the part it qualifies by one of that part on each side: a year
  by a year, a month by a month, a day by a day, a season or quarter by its own length, a
  decade (201X) by a decade. "2019-05~" (about May 2019) is 1 April to 30 June 2019.
- `%` (uncertain and approximate) widens as `~` does: the approximation sets the range,
  the doubt adds nothing to it.
- Placement is honoured (EDTF level 2): a qualifier before a part qualifies that part
  alone ("~2019-07" is July of about 2019: July 2018 to July 2020); one after a part
  qualifies it together with the parts before it, at the finest of them ("2019-07~-31" is
  about July: 30 June to 31 August 2019; "2019?-07-31" leaves the year uncertain). Each
  qualified part widens on its own, so "~2019-~07" widens by a year and a month.
- A set spans its members, each widened by the rule; an interval runs from its first
  end's earliest day to its last end's latest day, each end widened outward by the rule.
  An open end ("2019/..") and an unknown one ("2019/") have no bound: we cannot say when.

The library's own fuzzy bounds (lower_fuzzy/upper_fuzzy) disagree with this and with
themselves: they pad `?` like `~`, `%` twice, a whole-date qualifier on "2019-05" by a year
and a month, nothing at all inside sets, and a month-precision end by day arithmetic (30
June plus a month is 30 July). So the library reads the value and gives the days it names
as written (with unspecified digits, seasons and significant digits), and the widening is
computed here (_bounds). Its grammar takes no qualifier on a season or a quarter, which
newsrooms do say ("circa end of 2018"), so "2018-36~" is read here too (_parsed).
The data migrations sources 0008 and claims 0023 carry a copy of _bounds; a test keeps the
copies equal to it.
"""

import calendar
import functools
import re
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from edtf import (
    UA,
    DateAndTime,
    Interval,
    MultipleDates,
    OneOfASet,
    PartialUncertainOrApproximate,
    UncertainOrApproximate,
    Unspecified,
    UnspecifiedIntervalSection,
    parse_edtf,
)


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
    """The earliest and latest calendar days an EDTF value can mean (None: open-ended),
    by the rule for qualifiers in this module's docstring."""
    try:
        parsed = _parsed(value)
    except Exception as error:  # the parser raises several kinds of errors on bad input
        raise FuzzyDateError(f'"{_shorten(value)}" is not a valid EDTF value.') from error
    if "XXXX" in value.upper():
        raise FuzzyDateError(f'"{value}" has no year; enter the year so the date can be sorted.')
    try:
        earliest, latest = _bounds(parsed)
    except _OutOfRange:
        raise FuzzyDateError(
            f'"{_shorten(value)}" falls outside the years 1 to 9999, which Claimtrail can sort.'
        ) from None
    except _Reversed:
        raise FuzzyDateError(
            f'"{_shorten(value)}" ends before it starts: put the earlier date first.'
        ) from None
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


# A season or quarter with qualifiers, which the EDTF grammar does not take: "2018-36~"
# (about the last quarter of 2018), "2018?-36" (the last quarter of probably 2018). Read
# standing alone only; in a set or an interval the grammar refuses it, and so do we.
_QUALIFIED_SEASON = re.compile(
    r"(?P<year_ua_b>[?~%]?)(?P<year>\d{4})(?P<year_ua>[?~%]?)"
    r"-(?P<before>[?~%]?)(?P<season>2[1-9]|3\d|4[01])(?P<after>[?~%]?)"
)


@functools.lru_cache(maxsize=4096)
def _parsed(value: str) -> Any:
    """The EDTF grammar's reading of `value` (to_edtf, then edtf_bounds: parsed once)."""
    match = _QUALIFIED_SEASON.fullmatch(value)
    if match is None or not any(match.group("year_ua_b", "year_ua", "before", "after")):
        return parse_edtf(value)
    if (match["year_ua_b"] and match["year_ua"]) or (match["before"] and match["after"]):
        raise ValueError(f"{value} qualifies a part twice")
    # The library keeps a class for a qualified season, though its grammar makes none.
    return PartialUncertainOrApproximate(
        year=match["year"],
        ssn=parse_edtf(f"{match['year']}-{match['season']}"),
        year_ua_b=_qualifier(match["year_ua_b"]),
        year_ua=_qualifier(match["year_ua"]),
        season_ua=_qualifier(match["before"] or match["after"]),
    )


def _qualifier(mark: str) -> UA | None:
    return UA(mark) if mark else None


# The rule (this module's docstring), from here to _shift. The data migrations sources 0008
# and claims 0023 carry a copy of it; tests/sources/test_dates.py keeps the copies equal.


class _OutOfRange(ValueError):
    """A day outside the years 1 to 9999."""


class _Reversed(ValueError):
    """An interval whose stated end comes before its stated start."""


# (years, months, days) by which `~` or `%` widens a date each way
_NO_WIDENING, _A_YEAR, _A_MONTH, _A_DAY = (0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)


@dataclass(frozen=True)
class _Span:
    """A single date: its first and last day as written, and how far `~` or `%` widens it."""

    first: date
    last: date
    has_day: bool
    widen: tuple[int, int, int] = _NO_WIDENING

    def earliest(self) -> date:
        return _shift(self.first, -1, self.widen)

    def latest(self) -> date:
        if self.has_day or self.widen == _NO_WIDENING:
            return _shift(self.last, 1, self.widen)
        # Whole months: "2019-06~" ends on 31 July, where 30 June plus a month is 30 July.
        month = _shift(self.last.replace(day=1), 1, self.widen)
        return month.replace(day=calendar.monthrange(month.year, month.month)[1])

    def length(self) -> tuple[int, int, int]:
        """One of this date's own unit: a day, or the months or whole years it spans."""
        if self.has_day:
            return _A_DAY
        months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        whole_years = self.first.month == 1 and months % 12 == 0
        return (months // 12, 0, 0) if whole_years else (0, months, 0)


def _bounds(node: Any) -> tuple[date | None, date | None]:
    """The earliest and latest day of a parsed EDTF value (None: open or unknown)."""
    if isinstance(node, MultipleDates | OneOfASet):  # {all of} and [one of]: every member
        members = [_bounds(member) for member in node.objects]
        firsts = [first for first, _ in members if first is not None]
        lasts = [last for _, last in members if last is not None]
        return (
            min(firsts) if len(firsts) == len(members) else None,
            max(lasts) if len(lasts) == len(members) else None,
        )
    if isinstance(node, Interval):  # a/b, and a..b, ..b, a.. inside sets
        start, end = _end(node.lower), _end(node.upper)
        if start is not None and end is not None and start.first > end.last:
            raise _Reversed
        return (
            start.earliest() if start is not None else None,
            end.latest() if end is not None else None,
        )
    span = _span(node)
    return span.earliest(), span.latest()


def _end(node: Any) -> _Span | None:
    if node is None or isinstance(node, UnspecifiedIntervalSection):  # "..", or left empty
        return None
    return _span(node)


def _span(node: Any) -> _Span:
    if isinstance(node, DateAndTime):
        return _span(node.date)
    if isinstance(node, UncertainOrApproximate):  # the whole date: 2019~, 2019-05-03%
        span = _span(node.date)
        return replace(span, widen=span.length() if _widens(node.ua) else _NO_WIDENING)
    if isinstance(node, PartialUncertainOrApproximate):  # by part: ?2019-07, 2019-07~-31
        span = _Span(
            _as_date(node.lower_strict()), _as_date(node.upper_strict()), node.day is not None
        )
        units = {
            unit
            for qualifier, unit in (
                (node.year_ua_b, _A_YEAR),  # before a part: that part alone
                (node.month_ua, _A_MONTH),
                (node.day_ua, _A_DAY),
                (node.year_ua, _A_YEAR),  # after a part: it and those before, at the finest
                (node.year_month_ua, _A_MONTH),
                (node.month_day_ua, _A_DAY),
                (node.season_ua, span.length()),
                (node.all_ua, span.length()),
            )
            if _widens(qualifier)
        }
        years, months, days = (sum(column) for column in zip(_NO_WIDENING, *units, strict=True))
        return replace(span, widen=(years, months, days))
    if isinstance(node, Unspecified):  # 201X, 2019-XX~; and X inside a part: 2019-1X
        day = node.day is not None and "X" not in node.day
        span = _Span(_as_date(node.lower_strict()), _as_date(node.upper_strict()), day)
        return replace(span, widen=span.length() if _widens(node.ua) else _NO_WIDENING)
    # A date, season or long year as written; significant digits ("1950S2") widen it.
    day = getattr(node, "day", None) is not None
    return _Span(_as_date(node.lower_fuzzy()), _as_date(node.upper_fuzzy()), day)


def _widens(qualifier: Any) -> bool:
    """Approximate (`~`) or both (`%`) widen; uncertain (`?`) does not."""
    return qualifier is not None and bool(
        qualifier.is_approximate or qualifier.is_uncertain_and_approximate
    )


def _as_date(bound: time.struct_time) -> date:
    if not 1 <= bound.tm_year <= 9999:
        raise _OutOfRange(bound.tm_year)
    return date(bound.tm_year, bound.tm_mon, bound.tm_mday)


def _shift(day: date, sign: int, widen: tuple[int, int, int]) -> date:
    """`day` moved by `widen` (years, months, days), later (sign 1) or earlier (-1); a day
    the month lacks becomes its last (31 July less a month is 30 June)."""
    years, months, days = widen
    index = day.year * 12 + day.month - 1 + sign * (years * 12 + months)
    year, month = index // 12, index % 12 + 1
    try:
        last = calendar.monthrange(year, month)[1]
        return date(year, month, min(day.day, last)) + timedelta(days=sign * days)
    except (ValueError, OverflowError):
        raise _OutOfRange(day) from None


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
    # `?` does not widen the bounds (edtf_bounds), so the doubt is said in words.
    doubt = " (uncertain)" if re.search(r"[?%]", edtf) else ""
    if days[0] and days[1]:
        return (days[0] if days[0] == days[1] else f"between {days[0]} and {days[1]}") + doubt
    return (f"{days[0]} or later" if days[0] else f"{days[1]} or earlier") + doubt


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
        return _SUB_YEARS[month], match["year"], match["q"] or match["whole"]
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
    if words.endswith(" of"):  # a part of the year: "about the last quarter of 2018"
        words = f"the {words}"
    if qualifier == "~":
        return f"about {words} {year}".replace("  ", " ")
    if not words or words.startswith("the "):
        written = f"{words} {year}".strip()
        return f"probably {written}" if qualifier == "?" else f"about {written}, uncertain"
    return f"{words} (year uncertain, probably {year})"
