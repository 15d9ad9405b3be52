from collections import Counter
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.dates import FuzzyDateError, edtf_bounds, parse_fuzzy_date, to_edtf


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
        ("2019?-07-31", date(2018, 7, 31), date(2020, 7, 31)),
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
