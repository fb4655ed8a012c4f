"""The pictures of a page from the page's own data, so a picture and the tables beside it show
the same rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from pages.pictures.heatmap import heatmap
from pages.pictures.timeline import timeline
from pages.pictures.world import world_map
from projections.overviews import Names
from projections.queries import BOUND

#: the timeline lane of each entity family
LANES = {"parties": "status", "commitments": "commitment", "obligations": "obligation",
         "reports": "report", "allegations": "allegation", "fundings": "funding"}


def page_url(path: str) -> str:
    family, _, key = path.partition("/")
    return f"/{family}/{quote(key, safe='')}"


def party_timeline(data: dict[str, Any]) -> Markup:
    """What happened to a party (each change over the days it took effect) and its deadlines."""
    items = [{"start": row["effective_from"], "end": row["effective_to"], "label": row["summary"],
              "group": LANES[row["kind"]], "href": page_url(row["entity"])}
             for row in data["timeline"] if row["kind"] in LANES]
    for family in ("commitments", "obligations", "reports"):
        for item in data[family]:
            if item.get("due_on"):
                items.append({"start": item["due_on"], "end": item["due_on"],
                              "label": f"Due: {item['path']}", "group": "deadline",
                              "href": page_url(item["path"])})
    return timeline(items, data["today"])


def plan_heatmap(data: dict[str, Any], names: Names) -> Markup:
    """An action plan's progress matrix, each row linking to its party's page."""
    plan = data["instrument"]
    titles = {number: p["title"] for number, p in plan["provisions"].items()}
    return heatmap(plan["code"], data["matrix"], names.parties, titles,
                   lambda code: f"/parties/{quote(code, safe='')}")


def treaty_map(parties: list[dict[str, Any]], treaty: str) -> Markup:
    """Each party's status under one treaty on a world map: State Party, signatory or not party."""
    statuses, names = {}, {}
    for party in parties:
        names[party["code"]] = party["name"]
        status = party["statuses"].get(treaty, {}).get("status")
        if status is not None:
            statuses[party["code"]] = ("state_party" if status in BOUND
                                       else "signatory" if status == "signed" else "not_party")
    return world_map(statuses, names)
