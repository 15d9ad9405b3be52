"""An HTML form as a browser submits it: what an editor who opened a page sends back."""

from html.parser import HTMLParser
from typing import Any


class _FormReader(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._option: str | None = None
        self._option_selected = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and (self.form_id is None or a.get("id") == self.form_id):
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self.fields.setdefault(name, []).append(a.get("value", default))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, [])
        elif tag == "option" and self._select:
            self._option, self._option_selected = a.get("value"), "selected" in a
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None or self._option is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.fields.setdefault(self._textarea, []).append(text.removeprefix("\n"))
            self._textarea = None
        elif tag == "option" and self._select and self._option is not None:
            if self._option_selected:
                value = self._option if self._option is not None else "".join(self._text)
                self.fields[self._select].append(value)
            self._option = None
        elif tag == "select":
            self._select = None


def form_data(page: Any, form_id: str | None = None) -> dict[str, Any]:
    """The fields of the page's form (the first, or the one with this id) with the values
    it shows: a dict for Django's test client, lists where a name repeats."""
    reader = _FormReader(form_id)
    reader.feed(page.content.decode())
    return {
        name: values if len(values) != 1 else values[0]
        for name, values in reader.fields.items()
        if name != "csrfmiddlewaretoken"
    }
