"""Background tasks of claims (jobs.engine runs them; each is safe to run twice)."""

from typing import Any

from django_tasks import task

from claims.models import Citation, QuoteCheck, quote_checks_summary
from jobs.engine import durable


@task()
@durable
def recheck_quotes(source_id: int) -> dict[str, Any]:
    """Check the quotes of the source's citations against its latest snapshot (a new one
    marked them "being checked": claims.services.recheck_source_quotes)."""
    citations = Citation.objects.filter(source_id=source_id)
    done = 0
    for count in QuoteCheck.objects.recheck_all(citations):
        done += count
    quoted = citations.exclude(quote="")
    outcomes = QuoteCheck.objects.filter(citation__in=quoted).values_list("outcome", flat=True)
    return {"checked": done, "words": quote_checks_summary(outcomes, quoted.count())}


@task()
@durable
def watch_sources() -> dict[str, Any]:
    """The watch over every cited source's live page (claims.watch), on the schedule
    (settings.TASK_SCHEDULE) or by manage.py watch_sources."""
    from claims.watch import watch  # fetches through sources.capture

    done = watch()
    return {"sources": done.sources, "changed": done.changed, "words": done.words}
