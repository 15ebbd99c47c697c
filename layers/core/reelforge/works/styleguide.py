"""Style guides from a brand's text or its landing page.

The page is fetched through the SSRF-safe ingest (public addresses only, every redirect hop
checked, at most `MAX_PAGE_BYTES`) and read with the standard library's HTML parser: the
title, meta description, headings, visible text, the colours its CSS names and its fonts.
Script and style contents are never taken for text. The llm provider writes the guide.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from reelforge.errors import BadRequest, IngestError
from reelforge.ingest import IngestPolicy, fetch_file
from reelforge.settings import get_settings
from reelforge.works.providers import catalog
from reelforge.works.providers.base import LandingPage
from reelforge.works.providers.choice import RoleChoice

MAX_PAGE_BYTES = 2 * 2**20
MAX_TEXT_CHARS = 20_000
_HTML = ("text/html", "application/xhtml+xml")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_FONT = re.compile(r"font-family\s*:\s*([^;}\"]+)", re.IGNORECASE)
_GENERIC_FONTS = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "inherit", "initial"}
_SKIP = {"script", "style", "noscript", "template", "svg", "head"}


def from_text(text: str, choice: RoleChoice) -> dict[str, Any]:
    guide = catalog.make("llm", choice.call()).style_guide(text)
    return guide.model_dump(exclude_none=True)


def from_landing(url: str, choice: RoleChoice, *, include_product_info: bool, mode: str) -> dict[str, Any]:
    page = read_page(url)
    return catalog.make("llm", choice.call()).landing(page, include_product_info=include_product_info, mode=mode)


def read_page(url: str) -> LandingPage:
    s = get_settings()
    policy = IngestPolicy(max_bytes=MAX_PAGE_BYTES, allow_hosts=frozenset(s.ingest_allow_host_list), timeout_s=10)
    with tempfile.TemporaryDirectory(prefix="landing-") as tmp:
        try:
            fetched = fetch_file(url, Path(tmp), policy)
        except IngestError as exc:
            raise BadRequest(f"the page could not be fetched: {exc}") from None
        if fetched.content_type not in _HTML:
            raise BadRequest(f"the URL is not an HTML page (it is {fetched.content_type or 'untyped'})")
        html = fetched.path.read_bytes().decode("utf-8", "replace")
    return parse_page(url, html)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title, self.description = "", ""
        self.headings: list[str] = []
        self.text: list[str] = []
        self.css: list[str] = []
        self._stack: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            name = (values.get("name") or values.get("property") or "").lower()
            if name in ("description", "og:description") and not self.description:
                self.description = values.get("content", "").strip()
            if name == "theme-color":
                self.css.append(values.get("content", ""))
            return
        if values.get("style"):
            self.css.append(values["style"])
        if tag in ("br", "img", "hr", "input", "link", "source"):
            return
        self._stack.append(tag)
        if tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            heading = " ".join("".join(self._heading).split())
            if heading:
                self.headings.append(heading)
            self._heading = None
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        inside = set(self._stack)
        if "style" in inside:
            self.css.append(data)
        if "title" in inside and not self.title:
            self.title = " ".join(data.split())
        if inside & _SKIP or "title" in inside:
            return
        if self._heading is not None:
            self._heading.append(data)
        if data.strip():
            self.text.append(data)


def parse_page(url: str, html: str) -> LandingPage:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    css = "\n".join(reader.css)
    colours = Counter(_normal_hex(c) for c in _HEX.findall(css))
    fonts: Counter[str] = Counter()
    for families in _FONT.findall(css):
        for family in families.split(","):
            name = family.strip().strip("'\"").strip()
            if name and name.lower() not in _GENERIC_FONTS and not name.startswith("var("):
                fonts[name] += 1
    text = " ".join(" ".join(reader.text).split())[:MAX_TEXT_CHARS]
    return LandingPage(url=url, title=reader.title[:300], description=reader.description[:1000],
                       headings=tuple(dict.fromkeys(reader.headings))[:30], text=text,
                       colors=tuple(c for c, _n in colours.most_common(12)),
                       fonts=tuple(f for f, _n in fonts.most_common(6)))


def _normal_hex(value: str) -> str:
    value = value.lower()
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value
