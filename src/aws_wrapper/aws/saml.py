"""Reading identity provider pages: HTML forms (ADFS sign-in) and the SAML response a sign-in
ends with. Pure functions over the page text (no I/O)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


@dataclass
class Form:
    """An HTML form: where it posts and its inputs (name -> value, in page order)."""

    action: str
    method: str = "post"
    inputs: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)

    def field_like(self, *words: str) -> str | None:
        """The first input whose name (or type) contains one of ``words``."""
        for name in self.inputs:
            low = name.lower()
            if any(w in low for w in words) or self.types.get(name) in words:
                return name
        return None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.loose: dict[str, str] = {}  # inputs outside any form (the SAML page's may be)
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "form":
            self._current = Form(a.get("action", ""), a.get("method", "post").lower() or "post")
            self.forms.append(self._current)
        elif tag == "input":
            name = a.get("name")
            if not name:
                return
            value = a.get("value", "")
            if self._current is not None:
                self._current.inputs[name] = value
                self._current.types[name] = a.get("type", "text").lower()
            else:
                self.loose[name] = value

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def parse_forms(page: str, base_url: str) -> list[Form]:
    """The forms of ``page``, their actions resolved against ``base_url``."""
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    for form in parser.forms:
        form.action = urljoin(base_url, html.unescape(form.action)) if form.action else base_url
    return parser.forms


def saml_response(page: str) -> str | None:
    """The base64 SAML response a sign-in page carries (``<input name="SAMLResponse">``)."""
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    for form in parser.forms:
        if form.inputs.get("SAMLResponse"):
            return form.inputs["SAMLResponse"].strip()
    value = parser.loose.get("SAMLResponse")
    return value.strip() if value else None


def login_form(forms: list[Form]) -> Form | None:
    """The form that asks for a password."""
    for form in forms:
        if form.field_like("password") is not None:
            return form
    return None


def error_text(page: str) -> str | None:
    """A sign-in page's error message (ADFS puts it in an element with id errorText)."""
    marker = 'id="errorText"'
    i = page.find(marker)
    if i < 0:
        return None
    start = page.find(">", i)
    end = page.find("<", start + 1)
    if start < 0 or end < 0:
        return None
    text = html.unescape(page[start + 1 : end]).strip()
    return text[:200] or None
