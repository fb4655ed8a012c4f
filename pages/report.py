"""The progress report as Markdown or HTML: report data in (projections.report), text out.
Footnotes are numbered here, in reading order, so both forms number them alike."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from pages.render import Frame, render


def footnoted(report: dict[str, Any], moved: list[dict[str, Any]] | None = None,
              against: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report with a footnote number on each figure that names parties (they are listed
    there) and on each whose stated total differs from the parties named."""
    number = 0
    sections = []
    for section in report["sections"]:
        figures = []
        for figure in section["figures"]:
            notes: dict[str, int | None] = {"named": None, "difference": None}
            if figure["named"]:
                number += 1
                notes["named"] = number
            difference = (figure["stated"] or {}).get("difference")
            if difference and figure["count"]:  # a total naming none is said in the text
                number += 1
                notes["difference"] = number
            figures.append({**figure, "notes": notes})
        sections.append({**section, "figures": figures})
    return {**report, "sections": sections, "moved": moved, "against": against}


def html(report: dict[str, Any], frame: Frame, clock: Any) -> str:
    """The report page (`footnoted` first); `clock` fills its clock form."""
    return render("report.html", frame, report, clock=clock)


def markdown(report: dict[str, Any], base_url: str = "") -> str:
    """The report as Markdown, its links absolute under `base_url` (a file leaves the site)."""
    return _markdown().get_template("report.md").render(data=report, base=base_url.rstrip("/"))


@cache
def _markdown() -> Environment:
    """Markdown is not HTML: its template is not escaped, and it keeps its line breaks."""
    return Environment(loader=PackageLoader("pages", "templates"), autoescape=False,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)
