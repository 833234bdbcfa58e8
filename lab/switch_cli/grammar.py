"""What a switch CLI makes of a typed line: keyword abbreviations, ambiguity, and where input went wrong.

Real CLIs accept any prefix of a keyword that is unique among the keywords valid at that position
("sh int st" is "show interfaces status"), refuse a prefix shared by several ("sh in" could be
"interfaces" or "inventory"), and point at the first word they could not use. Each dialect lists
its commands as keyword tuples; `decoys` adds keywords a real device has at a position but the
simulator does not implement, so abbreviations are exactly as ambiguous as on the real device.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Command:
    """One command: its full keywords, whether it needs privileged mode, whether text may follow."""

    words: tuple[str, ...]
    privileged: bool = False
    takes_argument: bool = False

    @property
    def key(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Match:
    command: Command
    argument: str = ""


@dataclass(frozen=True)
class Problem:
    """Why a line is not a command: the kind, the offending word and its column in the line."""

    kind: Literal["invalid", "ambiguous", "incomplete", "empty"]
    word: str = ""
    column: int = 0
    word_index: int = 0


@dataclass(frozen=True)
class Grammar:
    commands: Sequence[Command]
    decoys: Mapping[tuple[str, ...], Iterable[str]] = field(default_factory=dict)

    def resolve(self, line: str, privileged: bool) -> Match | Problem:
        """Resolve a typed line against the commands visible in this mode."""
        words = [(m.group(), m.start()) for m in _WORD.finditer(line)]
        if not words:
            return Problem("empty")
        visible = [c for c in self.commands if privileged or not c.privileged]
        matched: list[str] = []
        candidates = visible
        for index, (word, column) in enumerate(words):
            complete = [c for c in candidates if len(c.words) == index and c.takes_argument]
            keywords = {c.words[index] for c in candidates if len(c.words) > index}
            decoys = set(self.decoys.get(tuple(matched), ())) - keywords
            chosen = _pick(word, keywords, decoys)
            if not chosen or chosen in decoys:
                if complete:
                    return Match(complete[0], line[column:].strip())
                kind: Literal["invalid", "ambiguous"] = "ambiguous" if chosen == "" else "invalid"
                return Problem(kind, word, column, index)
            matched.append(chosen)
            candidates = [c for c in candidates if len(c.words) > index and c.words[index] == chosen]
        exact = [c for c in candidates if len(c.words) == len(words)]
        if exact:
            return Match(exact[0])
        last_word, last_column = words[-1]
        return Problem("incomplete", last_word, last_column, len(words) - 1)


def _pick(word: str, keywords: set[str], decoys: set[str]) -> str | None:
    """The keyword `word` abbreviates: None if none, "" if several (ambiguous)."""
    lowered = word.lower()
    everything = keywords | decoys
    if lowered in everything:
        return lowered
    hits = [k for k in everything if k.startswith(lowered)]
    if len(hits) == 1:
        return hits[0]
    return "" if hits else None
