"""Display names of parties, instruments and provisions, so a change reads "Croatia (HRV)" rather
than "HRV"; a code with nothing registered under it shows as the code itself."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import orjson

#: "Action #14: Identify suspected areas": the heading, and the title after it
HEADED = re.compile(r"((?:article|action)\s*#?\s*\d[\w.]*)\s*(?::\s*(.*))?", re.IGNORECASE)
#: a title longer than this is shown by its short form (see `short_title`)
LONG_TITLE = 60


def one_line(value: Any) -> str:
    """Any stored value as one line of text (odd values from corrections included)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return " ".join(text.split())


class Provision(NamedTuple):
    """An article or action: `Article 3` with title `Storage and stockpile destruction`."""

    kind: str
    heading: str
    title: str

    @classmethod
    def of(cls, number: Any, kind: Any, title: Any) -> Provision:
        kind, title = one_line(kind), one_line(title)
        if headed := HEADED.fullmatch(title):
            return cls(kind, headed[1], one_line(headed[2]))
        return cls(kind, f"{kind.capitalize() or 'Provision'} {one_line(number)}", title)


def short_title(title: str) -> str:
    """How a long title is referred to: the short name it ends with in brackets ("... on Their
    Destruction (Mine Ban Convention)"), else the part before a subtitle ("Cartagena Action Plan
    2010-2014: Ending the Suffering ...")."""
    if title.lower().startswith("the "):
        title = title[4:]
    if len(title) <= LONG_TITLE:
        return title
    if (named := re.search(r"\(([^()]*[A-Za-z][^()]*)\)$", title)) is not None:
        return named[1].strip()
    return title.partition(": ")[0]


class Names:
    """Parties' names and instruments' titles and provisions, by code, learnt from the states of
    the parties and instruments (so corrections of their registrations count too)."""

    def __init__(self) -> None:
        self.parties: dict[str, str] = {}
        self.instruments: dict[str, str] = {}
        self.provisions: dict[str, dict[str, Provision]] = {}
        #: each action plan's treaty
        self.parents: dict[str, str] = {}
        #: each instrument's statement codes and their labels
        self.codes: dict[str, dict[str, str]] = {}

    def learn(self, state: dict[str, Any]) -> None:
        """Take in the current state of a party or an instrument (other entities are ignored)."""
        code = state.get("id")
        if state.get("kind") == "parties":
            self.parties[code] = one_line(state.get("name"))
        elif state.get("kind") == "instruments":
            self.instruments[code] = short_title(one_line(state.get("title")))
            if isinstance(parent := state.get("parent"), str):
                self.parents[code] = parent
            codes = state.get("statement_codes")
            self.codes[code] = {
                name: one_line(entry.get("label")) for name, entry in
                (codes.items() if isinstance(codes, dict) else ()) if isinstance(entry, dict)
            }
            provisions = state.get("provisions")
            self.provisions[code] = {
                number: Provision.of(number, provision.get("kind"), provision.get("title"))
                for number, provision in (provisions.items() if isinstance(provisions, dict) else ())
                if isinstance(provision, dict)
            }

    def party(self, code: Any) -> str:
        """`Croatia (HRV)`; the bare code when no name is registered under it."""
        code = one_line(code)
        if not code:
            return "an unnamed party"
        name = self.parties.get(code)
        return f"{name} ({code})" if name and name != code else code

    def instrument(self, code: Any, short: bool = False) -> str:
        """`the Convention on Cluster Munitions (CCM)`, or `the CCM` when `short` or unknown."""
        code = one_line(code)
        if not code:
            return "an unnamed instrument"
        title = self.instruments.get(code)
        return f"the {title} ({code})" if title and title != code and not short else f"the {code}"

    def provision(self, ref: Any) -> Provision | None:
        """The provision `CCM:3` names, if its instrument has it."""
        if not isinstance(ref, str):
            return None
        code, _, number = ref.partition(":")
        return self.provisions.get(code, {}).get(number)

    def lineage(self, code: str) -> list[str]:
        """The instrument and those above it: `VAP`, `CCM`."""
        chain = [code]
        while (parent := self.parents.get(chain[-1])) is not None and parent not in chain:
            chain.append(parent)
        return chain

    def code_label(self, instrument: Any, code: Any) -> str:
        """The label of a statement code, looked up the instrument's lineage; else the code."""
        for owner in self.lineage(one_line(instrument)):
            if label := self.codes.get(owner, {}).get(one_line(code)):
                return label
        return one_line(code)

    def is_party(self, code: Any) -> bool:
        return isinstance(code, str) and code in self.parties
