"""Small helpers both consoles share: escaping, dates as people read them, templates with the one stylesheet."""

from __future__ import annotations

import html
from datetime import date, datetime
from functools import cache
from pathlib import Path
from string import Template

HERE = Path(__file__).parent


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt_day(day: date | None) -> str:
    return "&ndash;" if day is None else f"{day:%a %d %b %Y}"


def fmt_time(moment: datetime | None) -> str:
    return "&ndash;" if moment is None else f"{moment:%a %d %b %Y, %H:%M} UTC"


@cache
def template(name: str) -> Template:
    """A page's body in the one layout, with the stylesheet inlined (the CSP allows inline styles only)."""
    css = (HERE / "console.css").read_text(encoding="utf-8").replace("$", "$$")
    layout = (HERE / "layout.html").read_text(encoding="utf-8")
    return Template(layout.replace("/*STYLE*/", css).replace("/*BODY*/", (HERE / name).read_text(encoding="utf-8")))
