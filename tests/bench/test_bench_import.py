"""manage.py bench_import: its own files import cleanly, and it leaves nothing behind."""

import io
import re

import pytest
from django.core.management import call_command

from claims.models import Citation, Claim
from sources.models import Person, Source

pytestmark = pytest.mark.django_db


def test_bench_import_prints_a_rate_for_each_file_and_step_and_writes_nothing() -> None:
    out = io.StringIO()

    call_command("bench_import", "--rows", "5", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "claims.csv preview",
        "citations.csv preview",
        "claims.csv confirm",
        "citations.csv confirm",
    ]
    assert all(re.fullmatch(r"[a-z.]+ \w+: [\d,]+ rows/s \(5 rows\)", line) for line in lines)
    counts = [m.objects.count() for m in (Claim, Citation, Source, Person)]
    assert counts == [0, 0, 0, 0]
