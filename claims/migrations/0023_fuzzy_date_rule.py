"""Claims: when made and when the event was, bounds under the one rule for `?`, `~`, `%`.

Until now a fuzzy date's bounds came from the edtf package's own padding: `?` widened like
`~`, `%` twice, "2019-05~" by a year and a month, and sets and intervals not at all. The
rule is now written once (sources/dates.py, README "Fuzzy dates"): `?` keeps the days as
written, `~` and `%` widen the qualified part by one of itself each way, the same in sets
and intervals, and an open or unknown interval end has no bound. Stored bounds computed
under the old padding are stale; this recomputes them for every row with an EDTF value.

A migration never imports application code, so the rule is copied here from
sources/dates.py (_OutOfRange to _shift) as it stood when this was written;
tests/sources/test_dates.py checks that the copy gives the same bounds. A value the copy
cannot place is left as it is, with the bounds it has.
"""

import calendar
import functools
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.db import migrations
from edtf import (
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

BATCH = 1000


# Parsing takes about 10 ms a value, and rows repeat the same few dates.
@functools.lru_cache(maxsize=65536)
def row_bounds(value: str) -> tuple[date | None, date | None] | None:
    """The bounds of a stored EDTF value, or None to leave its row as it is."""
    if "XXXX" in value.upper():
        return None
    try:
        earliest, latest = _bounds(parse_edtf(value))
    except Exception:  # not readable under the rule: the row keeps what it has
        return None
    if earliest is not None and latest is not None and earliest > latest:
        return None
    return earliest, latest


def recompute(model: Any, prefixes: tuple[str, ...]) -> None:
    """Store the bounds of each fuzzy date `prefix` of `model`, in batches."""
    for prefix in prefixes:
        edtf, earliest, latest = f"{prefix}_edtf", f"{prefix}_earliest", f"{prefix}_latest"
        rows = model.objects.exclude(**{edtf: ""}).only("pk", edtf, earliest, latest)
        changed = []
        for row in rows.order_by("pk").iterator(chunk_size=BATCH):
            bounds = row_bounds(getattr(row, edtf))
            if bounds is None or bounds == (getattr(row, earliest), getattr(row, latest)):
                continue
            setattr(row, earliest, bounds[0])
            setattr(row, latest, bounds[1])
            changed.append(row)
            if len(changed) == BATCH:
                model.objects.bulk_update(changed, [earliest, latest])
                changed = []
        model.objects.bulk_update(changed, [earliest, latest])


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


def recompute_claims(apps: Any, schema_editor: Any) -> None:
    recompute(apps.get_model("claims", "Claim"), ("made", "event"))


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0022_citation_paths_and_source_claimants"),
        ("sources", "0008_fuzzy_date_rule"),
    ]

    operations = [
        # Backwards the stale bounds are not worth restoring: the rows keep the new ones.
        migrations.RunPython(recompute_claims, migrations.RunPython.noop, elidable=True),
    ]
