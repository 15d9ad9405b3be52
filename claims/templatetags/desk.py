from typing import Any

from django import template

from claims.desk import Section, desk

register = template.Library()


@register.simple_tag(takes_context=True)
def editor_desk(context: Any) -> list[Section]:
    """The signed-in editor's desk (claims.desk), for the admin's front page."""
    return desk(context["request"].user)
