"""Editors' internal notes on a claim (claims.models.ClaimNote): posting one with the
editors it mentions, and the thread as the claim's admin page shows it. Nothing here is
read by a public page, feed, export or the API."""

import re
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.safestring import SafeString

from claims.models import ClaimNote

# "@alice", "@j.doe": a username as Django allows it, not ending in a full stop (the end of
# the sentence), and not inside an e-mail address ("bob@example.org" mentions no one).
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]*[\w@+-])")


def mentioned(text: str) -> list[User]:
    """The editors `text` mentions who may read notes (those who may view claims): a note
    never reaches anyone else, and an unknown name is plain text."""
    names = {match.group(1) for match in MENTION.finditer(text)}
    if not names:
        return []
    readers = User.objects.with_perm(
        "claims.view_claim", backend="django.contrib.auth.backends.ModelBackend"
    )
    return list(readers.filter(username__in=names).order_by("username"))


@transaction.atomic
def post_note(note: ClaimNote, *, author: User) -> ClaimNote:
    """Write `note` (its claim, text and the note it answers set) as `author`, with the
    editors it mentions; the caller has validated it."""
    note.author = author
    note._history_user = author  # type: ignore[attr-defined]
    note.save()
    note.mentions.set(mentioned(note.text))
    return note


def thread(notes: Iterable[ClaimNote]) -> SafeString:
    """The notes as a thread: each followed by its replies, oldest first, as nested lists;
    every word escaped."""
    children: dict[int | None, list[ClaimNote]] = defaultdict(list)
    for note in notes:
        children[note.reply_to_id].append(note)

    def render(parent: int | None) -> SafeString:
        if not children[parent]:
            return SafeString("")
        return format_html(
            '<ol class="note-thread">{}</ol>',
            format_html_join(
                "",
                '<li id="note-{}"><p class="note-meta"><strong>{}</strong> · <time datetime="{}">'
                '{}</time>{}</p><div class="note-text">{}</div>{}</li>',
                (
                    (
                        note.pk,
                        note.author or "a removed account",
                        note.created_at.isoformat(),
                        f"{note.created_at:%Y-%m-%d %H:%M}",
                        format_html(
                            " · mentions {}", ", ".join(u.username for u in note.mentions.all())
                        )
                        if note.mentions.all()
                        else "",
                        linebreaks(note.text, autoescape=True),
                        render(note.pk),
                    )
                    for note in children[parent]
                ),
            ),
        )

    return render(None)
