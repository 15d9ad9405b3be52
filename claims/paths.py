"""A citation's path: the provenance links from the cited source to where the claim came
from, in order. One rule for every door (the admin's citation forms, the API, the CSV
import): each step starts where the previous one ended (the first at the cited source), no
source comes twice, and a broken path is refused with a message naming the step.

A path is written as the ids of the sources it reaches, in order: "12>7" is "the cited
source took it from source 12, which took it from source 7". The CSV column and the
admin's field take that text; the API takes the same ids as a list.
"""

from collections.abc import Iterable, Sequence

from sources.models import MAX_RECORD_ID, Provenance, Source, is_record_id

# Far above any chain of reporting (the demo's longest path has three steps).
MAX_PATH_STEPS = 20
SEPARATOR = ">"
EXAMPLE = "12>7"


class PathError(ValueError):
    """A path that cannot be followed; the message says which step and why."""


def parse_path(text: str) -> list[int]:
    """The source ids of a path as written ("12>7", spaces allowed; "" is no path)."""
    text = text.strip()
    if not text:
        return []
    parts = [part.strip() for part in text.split(SEPARATOR)]
    if len(parts) > MAX_PATH_STEPS:
        raise PathError(too_long(len(parts)))
    ids = []
    for position, part in enumerate(parts, 1):
        if not is_record_id(part) or int(part) == 0:
            shown = part if len(part) <= 20 else part[:19] + "…"
            raise PathError(
                f"Step {position}: “{shown}” is not a source's id. Write the path as the ids "
                f"of its sources joined by “{SEPARATOR}”, nearest first, as in {EXAMPLE}."
            )
        ids.append(int(part))
    return ids


def format_path(ids: Iterable[int]) -> str:
    return SEPARATOR.join(str(pk) for pk in ids)


def too_long(steps: int) -> str:
    return f"A path has at most {MAX_PATH_STEPS} steps (this one has {steps})."


def resolve_path(source_id: int, path: Sequence[int]) -> list[Provenance]:
    """The provenance links a path from `source_id` through the sources `path` follows, in
    order, read in one query (two when it is broken, to name the sources in the message).
    Raises PathError naming the first step that cannot be taken."""
    if not path:
        return []
    if len(path) > MAX_PATH_STEPS:
        raise PathError(too_long(len(path)))
    for position, pk in enumerate(path, 1):
        if not 0 < pk <= MAX_RECORD_ID:
            raise PathError(f"Step {position}: {pk} is not a source's id.")
    starts = [source_id, *path[:-1]]
    links = {
        (link.source_id, link.based_on_id): link
        for link in Provenance.objects.filter(
            source_id__in=set(starts), based_on_id__in=set(path)
        ).only("id", "source_id", "based_on_id")
    }
    steps: list[Provenance] = []
    seen = {source_id}
    for position, (start, end) in enumerate(zip(starts, path, strict=True), 1):
        if end in seen:
            raise PathError(
                f"Step {position}: {_name(end)} is already on the path; a path passes each "
                "source once."
            )
        seen.add(end)
        link = links.get((start, end))
        if link is None:
            if not Source.objects.filter(pk=end).exists():
                raise PathError(f"Step {position}: there is no source {end}.")
            raise PathError(
                f"Step {position}: {_name(start)} is not recorded as based on {_name(end)}. "
                "Each step follows one of the provenance links of the source reached before "
                "it: add the link to the source first, or choose one of its links."
            )
        steps.append(link)
    return steps


def _name(pk: int) -> str:
    title = Source.objects.filter(pk=pk).values_list("title", flat=True).first()
    if title is None:
        return f"source {pk}"
    title = " ".join(title.split())
    return f"“{title if len(title) <= 60 else title[:59] + '…'}” (source {pk})"
