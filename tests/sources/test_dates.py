import importlib
import itertools
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps
from edtf import parse_edtf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.models import Claim
from sources.dates import FuzzyDateError, edtf_bounds, parse_fuzzy_date, readable_date, to_edtf
from sources.models import Source
from tests.factories import ClaimFactory, SourceFactory


@pytest.mark.parametrize(
    ("text", "edtf", "earliest", "latest"),
    [
        ("2014", "2014", date(2014, 1, 1), date(2014, 12, 31)),
        ("end of 2018", "2018-36", date(2018, 10, 1), date(2018, 12, 31)),
        ("late 2018", "2018-36", date(2018, 10, 1), date(2018, 12, 31)),
        ("early 2018", "2018-33", date(2018, 1, 1), date(2018, 3, 31)),
        ("Q4 2018", "2018-36", date(2018, 10, 1), date(2018, 12, 31)),
        ("first half of 2018", "2018-40", date(2018, 1, 1), date(2018, 6, 30)),
        ("mid-2018", "2018-05/2018-08", date(2018, 5, 1), date(2018, 8, 31)),
        ("July 31, 2019", "2019-07-31", date(2019, 7, 31), date(2019, 7, 31)),
        ("31 July 2019", "2019-07-31", date(2019, 7, 31), date(2019, 7, 31)),
        ("Sept. 26, 2019", "2019-09-26", date(2019, 9, 26), date(2019, 9, 26)),
        ("November 2019", "2019-11", date(2019, 11, 1), date(2019, 11, 30)),
        ("May and September 2019", "{2019-05,2019-09}", date(2019, 5, 1), date(2019, 9, 30)),
        (
            "May, June and Sept. 2019",
            "{2019-05,2019-06,2019-09}",
            date(2019, 5, 1),
            date(2019, 9, 30),
        ),
        ("circa 2017", "2017~", date(2016, 1, 1), date(2018, 12, 31)),
        ("c. 2017", "2017~", date(2016, 1, 1), date(2018, 12, 31)),
        ("circa May 2019", "2019-05~", date(2019, 4, 1), date(2019, 6, 30)),
        ("about July 31, 2019", "2019-07-31~", date(2019, 7, 30), date(2019, 8, 1)),
        ("circa end of 2018", "2018-36~", date(2018, 7, 1), date(2019, 3, 31)),
        ("circa spring 2019", "2019-21~", date(2018, 12, 1), date(2019, 8, 31)),
        ("spring 2019", "2019-21", date(2019, 3, 1), date(2019, 5, 31)),
        ("the 1990s", "199X", date(1990, 1, 1), date(1999, 12, 31)),
        ("2010-2012", "2010/2012", date(2010, 1, 1), date(2012, 12, 31)),
        ("between 2010 and 2012", "2010/2012", date(2010, 1, 1), date(2012, 12, 31)),
        ("from March 2018 to June 2019", "2018-03/2019-06", date(2018, 3, 1), date(2019, 6, 30)),
        ("2017 and 2019", "{2017,2019}", date(2017, 1, 1), date(2019, 12, 31)),
        ("  End   of 2018 ", "2018-36", date(2018, 10, 1), date(2018, 12, 31)),
    ],
)
def test_newsroom_phrases_become_edtf_with_calendar_bounds(
    text: str, edtf: str, earliest: date, latest: date
) -> None:
    parsed = parse_fuzzy_date(text)
    assert (parsed.edtf, parsed.earliest, parsed.latest) == (edtf, earliest, latest)


@pytest.mark.parametrize(
    ("value", "earliest", "latest"),
    [
        ("2018-36", date(2018, 10, 1), date(2018, 12, 31)),
        ("{2019-05,2019-09}", date(2019, 5, 1), date(2019, 9, 30)),
        ("2019?-07-31", date(2019, 7, 31), date(2019, 7, 31)),
        ("2018/..", date(2018, 1, 1), None),
        ("../2018", None, date(2018, 12, 31)),
        ("2019-XX", date(2019, 1, 1), date(2019, 12, 31)),
    ],
)
def test_edtf_values_are_accepted_as_typed(
    value: str, earliest: date | None, latest: date | None
) -> None:
    assert to_edtf(value) == value
    assert edtf_bounds(value) == (earliest, latest)


# The rule for `?`, `~` and `%` (sources/dates.py's docstring, docs/editors.md "Fuzzy dates"): `?`
# keeps the days as written; `~` and `%` widen the part they qualify by one of that part
# each way; the same alone, in sets and at the ends of intervals.
RULE = [
    # A year, alone and qualified as a whole, or before it (level 2).
    ("2019", date(2019, 1, 1), date(2019, 12, 31)),
    ("2019?", date(2019, 1, 1), date(2019, 12, 31)),
    ("2019~", date(2018, 1, 1), date(2020, 12, 31)),
    ("2019%", date(2018, 1, 1), date(2020, 12, 31)),
    ("?2019", date(2019, 1, 1), date(2019, 12, 31)),
    ("~2019", date(2018, 1, 1), date(2020, 12, 31)),
    # A month: widened by a month, to the end of the month (30 June plus a month is July 31).
    ("2019-05?", date(2019, 5, 1), date(2019, 5, 31)),
    ("2019-05~", date(2019, 4, 1), date(2019, 6, 30)),
    ("2019-05%", date(2019, 4, 1), date(2019, 6, 30)),
    ("2019-06~", date(2019, 5, 1), date(2019, 7, 31)),
    ("2019-12~", date(2019, 11, 1), date(2020, 1, 31)),
    ("2019-01~", date(2018, 12, 1), date(2019, 2, 28)),
    # A day: widened by a day.
    ("2019-07-31?", date(2019, 7, 31), date(2019, 7, 31)),
    ("2019-07-31~", date(2019, 7, 30), date(2019, 8, 1)),
    ("2019-07-31%", date(2019, 7, 30), date(2019, 8, 1)),
    ("2019-12-31~", date(2019, 12, 30), date(2020, 1, 1)),
    ("2020-03-01~", date(2020, 2, 29), date(2020, 3, 2)),
    # A part qualified (level 2): before a part, that part alone ...
    ("?2019-07", date(2019, 7, 1), date(2019, 7, 31)),
    ("~2019-07", date(2018, 7, 1), date(2020, 7, 31)),
    ("%2019-07-31", date(2018, 7, 31), date(2020, 7, 31)),
    ("2019-?07", date(2019, 7, 1), date(2019, 7, 31)),
    ("2019-~07", date(2019, 6, 1), date(2019, 8, 31)),
    ("2019-~07-31", date(2019, 6, 30), date(2019, 8, 31)),
    ("2019-07-?31", date(2019, 7, 31), date(2019, 7, 31)),
    ("2019-07-~31", date(2019, 7, 30), date(2019, 8, 1)),
    ("2019-07-%31", date(2019, 7, 30), date(2019, 8, 1)),
    # ... after a part, it and the parts before it, widened by the smallest of them ...
    ("2019?-07-31", date(2019, 7, 31), date(2019, 7, 31)),
    ("2019~-07-31", date(2018, 7, 31), date(2020, 7, 31)),
    ("2019~-07", date(2018, 7, 1), date(2020, 7, 31)),
    ("2019-07?-31", date(2019, 7, 31), date(2019, 7, 31)),
    ("2019-07~-31", date(2019, 6, 30), date(2019, 8, 31)),
    # ... and each qualified part widens on its own.
    ("~2019-~07", date(2018, 6, 1), date(2020, 8, 31)),
    ("~2019-07-~31", date(2018, 7, 30), date(2020, 8, 1)),
    ("?2019-~07", date(2019, 6, 1), date(2019, 8, 31)),
    # Seasons, quarters and halves: widened by their own length.
    ("2018-36", date(2018, 10, 1), date(2018, 12, 31)),
    ("2018-36?", date(2018, 10, 1), date(2018, 12, 31)),
    ("2018-36~", date(2018, 7, 1), date(2019, 3, 31)),
    ("2018-36%", date(2018, 7, 1), date(2019, 3, 31)),
    ("2018-~36", date(2018, 7, 1), date(2019, 3, 31)),
    ("2018?-36", date(2018, 10, 1), date(2018, 12, 31)),
    ("2018~-36", date(2017, 10, 1), date(2019, 12, 31)),
    ("?2018-36", date(2018, 10, 1), date(2018, 12, 31)),
    ("~2018-36", date(2017, 10, 1), date(2019, 12, 31)),
    ("2018-33~", date(2017, 10, 1), date(2018, 6, 30)),
    ("2018-40~", date(2017, 7, 1), date(2018, 12, 31)),
    ("2019-21~", date(2018, 12, 1), date(2019, 8, 31)),
    # Unspecified digits: widened by what is given (a decade, a year, a month).
    ("201X?", date(2010, 1, 1), date(2019, 12, 31)),
    ("201X~", date(2000, 1, 1), date(2029, 12, 31)),
    ("2019-XX~", date(2018, 1, 1), date(2020, 12, 31)),
    ("2019-05-XX~", date(2019, 4, 1), date(2019, 6, 30)),
    # Sets: every member by the rule, then the first day of any to the last of any.
    ("{2019?-05,2019?-09}", date(2019, 5, 1), date(2019, 9, 30)),
    ("{2019-05~,2019-09~}", date(2019, 4, 1), date(2019, 10, 31)),
    ("{2019~-05,2019-09}", date(2018, 5, 1), date(2020, 5, 31)),
    ("{2019-05,2019-~09}", date(2019, 5, 1), date(2019, 10, 31)),
    ("[2019?,2020~]", date(2019, 1, 1), date(2021, 12, 31)),
    ("[2019~,2021]", date(2018, 1, 1), date(2021, 12, 31)),
    ("{2017,2019..2020}", date(2017, 1, 1), date(2020, 12, 31)),
    ("[..2019,2021]", None, date(2021, 12, 31)),
    ("[2019,2021..]", date(2019, 1, 1), None),
    # Intervals: each end by the rule, widened outward.
    ("2019?/2020?", date(2019, 1, 1), date(2020, 12, 31)),
    ("2019~/2020", date(2018, 1, 1), date(2020, 12, 31)),
    ("2019/2020~", date(2019, 1, 1), date(2021, 12, 31)),
    ("2019-05~/2019-09~", date(2019, 4, 1), date(2019, 10, 31)),
    ("2019-05%/2019-09?", date(2019, 4, 1), date(2019, 9, 30)),
    ("2019?-05/2019-09", date(2019, 5, 1), date(2019, 9, 30)),
    ("2019-05/2019-~09", date(2019, 5, 1), date(2019, 10, 31)),
    ("2019-07-31/2019-08-~01", date(2019, 7, 31), date(2019, 8, 2)),
    ("2019-21~/2019-23", date(2018, 12, 1), date(2019, 11, 30)),
    # Open ends ("..") and unknown ones (left empty) have no bound.
    ("../2019", None, date(2019, 12, 31)),
    ("../2019~", None, date(2020, 12, 31)),
    ("2019/..", date(2019, 1, 1), None),
    ("2019~/..", date(2018, 1, 1), None),
    ("2019?/..", date(2019, 1, 1), None),
    ("/2019~", None, date(2020, 12, 31)),
    ("2019-05~/", date(2019, 4, 1), None),
    ("2019-22~/..", date(2019, 3, 1), None),
]


@pytest.mark.parametrize(("value", "earliest", "latest"), RULE)
def test_every_form_follows_the_one_rule_for_qualifiers(
    value: str, earliest: date | None, latest: date | None
) -> None:
    assert to_edtf(value) == value
    assert edtf_bounds(value) == (earliest, latest)


def test_a_filter_for_2018_does_not_list_what_was_probably_said_in_2019() -> None:
    for value in ("2019?", "2019?-07-31", "?2019-07", "{2019?-05,2019?-09}", "2019?/2020"):
        earliest, _ = edtf_bounds(value)
        assert earliest is not None
        assert earliest.year == 2019, value


# "Q" stands for the qualifier: each template once with ?, ~ and %, and once without.
TEMPLATES = [
    "2019Q",
    "2019-05Q",
    "2019-07-31Q",
    "Q2019-07",
    "2019-Q07",
    "2019-07-Q31",
    "2019Q-07-31",
    "2019-07Q-31",
    "2018-36Q",
    "2018Q-36",
    "201XQ",
    "{2019Q-05,2019Q-09}",
    "[2019Q,2020Q]",
    "2019Q/2020Q",
    "2019-05Q/2019-09",
    "../2019Q",
    "2019-05Q/..",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_uncertain_keeps_the_days_and_both_widens_as_approximate_does(template: str) -> None:
    plain, uncertain, approximate, both = (
        edtf_bounds(template.replace("Q", qualifier)) for qualifier in ("", "?", "~", "%")
    )
    assert uncertain == plain
    assert both == approximate
    assert approximate != plain
    earliest, latest = approximate
    assert earliest is None or plain[0] is None or earliest < plain[0]  # widened outward,
    assert latest is None or plain[1] is None or latest >= plain[1]  # never narrowed


# Single dates as they may stand alone, in a set or at an end of an interval.
SINGLES = [
    "2019",
    "2019?",
    "2019~",
    "2019-05~",
    "2019-09?",
    "2019-07-31~",
    "2019?-07-31",
    "2019-07~-31",
    "~2019-07",
    "201X~",
]


def test_a_date_has_the_same_bounds_alone_in_a_set_and_at_an_interval_end() -> None:
    """The bug this rule fixed: "{2019?-05,2019?-09}" was not widened as "2019?-05" was."""
    alone = {value: edtf_bounds(value) for value in SINGLES}
    written = {value: edtf_bounds(re.sub("[?~%]", "", value)) for value in SINGLES}
    placed = 0
    for first, second in itertools.product(SINGLES, repeat=2):
        (first_earliest, first_latest), (second_earliest, second_latest) = (
            alone[first],
            alone[second],
        )
        for opening, closing in ("{}", "[]"):
            value = f"{opening}{first},{second}{closing}"
            assert edtf_bounds(value) == (
                min(first_earliest, second_earliest),
                max(first_latest, second_latest),
            ), value
            placed += 1
        value = f"{first}/{second}"
        if not grammar_takes(value):
            continue  # not every pair makes an interval the EDTF grammar takes
        if written[first][0] > written[second][1]:  # as written, it ends before it starts
            with pytest.raises(FuzzyDateError, match="ends before it starts"):
                edtf_bounds(value)
        else:
            assert edtf_bounds(value) == (first_earliest, second_latest), value
        placed += 1
    assert placed > 250


def grammar_takes(value: str) -> bool:
    """Whether the edtf package's grammar reads `value` (it raises several kinds of error)."""
    try:
        parse_edtf(value)
    except Exception:
        return False
    return True


@pytest.mark.parametrize(
    ("edtf", "shown"),
    [
        ("2018-36~", "about the last quarter of 2018"),
        ("2018-36?", "probably the last quarter of 2018"),
        ("2018-36%", "about the last quarter of 2018, uncertain"),
        ("2019-21~", "about spring 2019"),
        ("2019?", "probably 2019"),
        ("2019%", "about 2019, uncertain"),
        # Where the rule leaves the days as written, the words still say the doubt.
        ("?2019-07", "between 1 July 2019 and 31 July 2019 (uncertain)"),
        ("2019-07?-31", "31 July 2019 (uncertain)"),
        ("2019-~07", "between 1 June 2019 and 31 Aug. 2019"),
    ],
)
def test_qualified_dates_read_with_their_qualifier(edtf: str, shown: str) -> None:
    assert readable_date("", edtf) == shown


README = Path(__file__).resolve().parents[2] / "docs" / "editors.md"


def readme_dates() -> list[tuple[str, str, str, str]]:
    """(typed, EDTF, earliest, latest) of each row of the README's fuzzy dates table."""
    section = README.read_text(encoding="utf-8").split("## Fuzzy dates", 1)[1]
    section = section.split("\n### ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("typed", "---") or cells[1] == "…":
            continue
        edtf = re.search(r"`([^`]+)`", cells[1])
        assert edtf, line
        earliest, latest = cells[2].split(" \u2013 ")
        rows.append((cells[0], edtf[1], earliest, latest))
    return rows


def test_the_readme_dates_table_has_a_row_for_each_form() -> None:
    values = [edtf for _, edtf, _, _ in readme_dates()]
    assert len(values) >= 14
    assert any("?" in value for value in values)
    assert any("~" in value for value in values)
    assert any("%" in value for value in values)
    assert any(value.startswith("{") and "?" in value for value in values)
    assert any(value.startswith("[") for value in values)
    assert any("/" in value and re.search("[?~%]", value) for value in values)
    assert any(value.endswith("/..") or value.startswith("../") for value in values)


@pytest.mark.parametrize(("typed", "edtf", "earliest", "latest"), readme_dates())
def test_every_row_of_the_readme_dates_table_is_true(
    typed: str, edtf: str, earliest: str, latest: str
) -> None:
    if not typed.startswith("*"):  # in italics: an EDTF value typed directly
        assert to_edtf(typed) == edtf
    bounds = edtf_bounds(edtf)
    assert [str(bound) if bound else "open" for bound in bounds] == [earliest, latest]


MIGRATIONS = ["sources.migrations.0008_fuzzy_date_rule", "claims.migrations.0023_fuzzy_date_rule"]


@pytest.mark.parametrize("name", MIGRATIONS)
def test_the_data_migrations_copy_of_the_rule_gives_the_same_bounds(name: str) -> None:
    """The migrations carry their own copy of the rule (a migration never imports the
    application). When the rule changes, a new migration recomputes the bounds, and this
    test points at it instead."""
    row_bounds = importlib.import_module(name).row_bounds
    values = [value for value, _, _ in RULE] + [edtf for _, edtf, _, _ in readme_dates()]
    values += [
        # as stored, and as the old rule left them to be recomputed
        "2014",
        "2018-36",
        "199X",
        "2019-XX",
        "1950S2",
        "Y1E3",
        "2019-07-31T10:00:00",
        "{2017,2019}",
        "2010/2012",
        # refused: the row keeps what it has
        "0000",
        "Y170000002",
        "2019-1X-31",
        "XXXX-07-31",
        "2019-06/2019-05~",
        "{2021..2019}",
    ]
    for value in filter(grammar_takes, values):  # qualified seasons were never stored
        try:
            expected = edtf_bounds(value)
        except FuzzyDateError:
            assert row_bounds(value) is None, value
        else:
            assert row_bounds(value) == expected, value


@pytest.mark.django_db
def test_the_data_migrations_recompute_stored_bounds_and_leave_unreadable_rows() -> None:
    source = SourceFactory(published_text="July 31", published_edtf="2019?-07-31")
    claim = ClaimFactory(made_text="circa 2017", made_edtf="2017~", event_text="2019?/..")
    blank = ClaimFactory(made_text="", made_edtf="", event_text="")
    # Bounds as the old rule stored them; one value no rule reads.
    Source.objects.filter(pk=source.pk).update(
        published_earliest=date(2018, 7, 31), published_latest=date(2020, 7, 31)
    )
    Claim.objects.filter(pk=claim.pk).update(
        made_earliest=date(2016, 1, 1), made_latest=date(2018, 12, 31), event_earliest=None
    )
    broken = ClaimFactory(made_text="2019", made_edtf="2019")
    Claim.objects.filter(pk=broken.pk).update(
        made_edtf="2019-1X-31", made_earliest=date(2019, 1, 1), made_latest=date(2019, 12, 31)
    )

    importlib.import_module(MIGRATIONS[0]).recompute_sources(apps, None)
    importlib.import_module(MIGRATIONS[1]).recompute_claims(apps, None)

    source.refresh_from_db()
    assert (source.published_earliest, source.published_latest) == (
        date(2019, 7, 31),
        date(2019, 7, 31),
    )
    claim.refresh_from_db()
    assert (claim.made_earliest, claim.made_latest) == (date(2016, 1, 1), date(2018, 12, 31))
    assert (claim.event_earliest, claim.event_latest) == (date(2019, 1, 1), None)
    broken.refresh_from_db()
    assert (broken.made_earliest, broken.made_latest) == (date(2019, 1, 1), date(2019, 12, 31))
    blank.refresh_from_db()
    assert (blank.made_earliest, blank.made_latest) == (None, None)


def test_end_of_year_is_narrower_than_the_edtf_library_reads_it() -> None:
    # The edtf package's own text reader returns "2018" for this phrase.
    assert to_edtf("end of 2018") == "2018-36"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a date."),
        ("   ", "Enter a date."),
        ("bogus", '"bogus" is not a date we can read'),
        ("yesterday", '"yesterday" is not a date we can read'),
        ("July 31", '"July 31" has no year'),
        ("February 30, 2019", "is not a day in the calendar"),
        ("2019-02-30", '"2019-02-30" is not a day in the calendar'),
        ("2019-13-01", '"2019-13-01" is not a day in the calendar'),
        ("Smarch 2019", "is not a date we can read"),
        ("circa May and September 2019", '"circa" works with a single year'),
        ("XXXX-07-31", "has no year"),
        ("0000", "falls outside the years 1 to 9999"),
        ("Y170000002", "falls outside the years 1 to 9999"),
        ("<script>alert(1)</script>", "is not a date we can read"),
        # The EDTF grammar takes these; no calendar day answers them.
        ("2019-XX-3X", '"2019-XX-3X" cannot be placed on the calendar'),
        ("2019-1X-31", '"2019-1X-31" cannot be placed on the calendar'),
        # Widening would leave the years the database sorts.
        ("0001~", '"0001~" falls outside the years 1 to 9999'),
        ("9999-12~", '"9999-12~" falls outside the years 1 to 9999'),
        # Widening the end does not hide that it comes before the start.
        ("2019-06/2019-05~", '"2019-06/2019-05~" ends before it starts'),
        ("{2021..2019}", '"{2021..2019}" ends before it starts'),
        # A part qualified twice.
        ("~2018~-36", '"~2018~-36" is not a date we can read'),
    ],
)
def test_unreadable_dates_raise_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(FuzzyDateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_fuzzy_date(text)


def test_long_input_is_shortened_in_the_error_message() -> None:
    with pytest.raises(FuzzyDateError) as error:
        parse_fuzzy_date("x" * 500)
    assert len(str(error.value)) < 300


def test_every_naughty_string_parses_or_raises_fuzzy_date_error(naughty_strings: list[str]) -> None:
    outcomes = {"parsed": 0, "refused": 0}
    for text in naughty_strings:
        try:
            parsed = parse_fuzzy_date(text)
        except FuzzyDateError:
            outcomes["refused"] += 1
        else:
            outcomes["parsed"] += 1
            assert (
                parsed.earliest is None or parsed.latest is None or parsed.earliest <= parsed.latest
            )
    assert outcomes["refused"] > 400


def _digit_or_x(digits: str) -> st.SearchStrategy[str]:
    """`digits` with some of them left unspecified (X), as EDTF levels 1 and 2 allow."""
    hidden = st.sampled_from([False, False, False, False, True])
    return st.lists(hidden, min_size=len(digits), max_size=len(digits)).map(
        lambda flags: "".join("X" if h else d for d, h in zip(digits, flags, strict=True))
    )


QUALIFIER = st.sampled_from(["", "", "", "", "", "", "?", "~", "%"])
YEAR = st.one_of(
    st.integers(0, 9999).map("{:04d}".format).flatmap(_digit_or_x),
    st.integers(0, 9999).map("{:04d}".format),
    st.integers(-9999, -1).map("{:05d}".format),
    st.integers(10_000, 10**12).map("Y{}".format),
    st.tuples(st.integers(1, 99), st.integers(1, 12)).map(lambda t: f"Y{t[0]}E{t[1]}"),
    st.tuples(st.integers(1000, 9999), st.integers(1, 4)).map(lambda t: f"{t[0]}S{t[1]}"),
)
MONTH = st.one_of(
    st.integers(1, 12).map("{:02d}".format),
    st.integers(0, 45).map("{:02d}".format).flatmap(_digit_or_x),
)
DAY = st.one_of(
    st.integers(1, 31).map("{:02d}".format),
    st.integers(0, 32).map("{:02d}".format).flatmap(_digit_or_x),
)


@st.composite
def single_edtf(draw: st.DrawFn) -> str:
    """A single EDTF date: a year, maybe a month (or a season), maybe a day, qualified
    as a whole or part by part."""
    value = draw(QUALIFIER) + draw(YEAR) + draw(QUALIFIER)
    if draw(st.booleans()):
        value += "-" + draw(QUALIFIER) + draw(MONTH) + draw(QUALIFIER)
        if draw(st.booleans()):
            value += "-" + draw(QUALIFIER) + draw(DAY) + draw(QUALIFIER)
    return value


@st.composite
def edtf_values(draw: st.DrawFn) -> str:
    """EDTF values as the grammar takes them (most of them) or nearly (the rest): single
    dates, intervals open or closed at either end, and sets of one or more dates."""
    kind = draw(st.sampled_from(["single", "interval", "set"]))
    if kind == "single":
        return draw(single_edtf())
    if kind == "interval":
        end = st.one_of(single_edtf(), st.sampled_from(["..", ""]))
        return f"{draw(end)}/{draw(end)}"
    members = draw(
        st.lists(
            st.one_of(
                single_edtf(),
                st.tuples(single_edtf(), single_edtf()).map("..".join),
                single_edtf().map("..{}".format),
                single_edtf().map("{}..".format),
            ),
            min_size=1,
            max_size=3,
        )
    )
    opening, closing = draw(st.sampled_from(["[]", "{}"]))
    return opening + ",".join(members) + closing


def test_every_generated_edtf_value_is_placed_on_the_calendar_or_refused_in_words() -> None:
    """10,000 generated values: each has bounds in order, or a FuzzyDateError (never any
    other exception); and a fair share of them are ones the grammar takes, so the bounds
    code is what is being tried."""
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=10_000,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(edtf_values())
    def place(value: str) -> None:
        try:
            parsed = parse_fuzzy_date(value)
        except FuzzyDateError as error:
            grammar = "is not a date we can read" in str(error)
            outcomes["not taken" if grammar else "taken, refused"] += 1
        else:
            earliest, latest = parsed.earliest, parsed.latest
            assert earliest is None or latest is None or earliest <= latest, value
            outcomes["placed"] += 1

    place()

    assert sum(outcomes.values()) == 10_000
    assert outcomes["placed"] > 1_000, outcomes
    assert outcomes["taken, refused"] > 100, outcomes
