"""A sorted OID table answering GET, GETNEXT and GETBULK lookups with bisect (pure, no protocol types).

OIDs are tuples of ints, whose natural ordering is SNMP's lexicographic order. A GETBULK answer is
cut to a byte budget the way real agents cut theirs to fit one datagram (RFC 3416 4.2.3 lets an agent
return fewer repetitions), so a client asking for max-repetitions 10,000 costs us one packet's work.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lab.snmp.mib import TABLE_ENTRIES, Oid, Row, Value

# A lookup result: a value, or one of SNMPv2's exception values.
Missing = Literal["noSuchObject", "noSuchInstance", "endOfMibView"]
Answer = tuple[Oid, Value | Missing]

# Real switches answer in one Ethernet-sized datagram (IOS "snmp-server packetsize" defaults to 1500);
# this budget is for the var-binds, leaving room for the message header and v3 security parameters.
DEFAULT_BUDGET_BYTES = 1300
MAX_BULK_VARBINDS = 256


@dataclass(frozen=True)
class OidTable:
    oids: tuple[Oid, ...]
    values: tuple[Value, ...]
    scalars: frozenset[Oid]  # scalar objects served (their instance is .0)
    entries: frozenset[Oid]  # table entries whose columns are known objects (for noSuchInstance)

    @classmethod
    def from_rows(cls, rows: Sequence[Row], entries: frozenset[Oid] = TABLE_ENTRIES) -> OidTable:
        ordered = sorted(rows, key=lambda r: r[0])
        scalars = frozenset(o[:-1] for o, _v in ordered if o[-1] == 0)
        return cls(tuple(o for o, _v in ordered), tuple(v for _o, v in ordered), scalars, entries)

    def __len__(self) -> int:
        return len(self.oids)

    def get(self, name: Oid) -> Answer:
        i = bisect_left(self.oids, name)
        if i < len(self.oids) and self.oids[i] == name:
            return name, self.values[i]
        known = name[:-1] in self.scalars or any(name[:n] in self.entries for n in range(1, len(name) - 1))
        return name, "noSuchInstance" if known else "noSuchObject"

    def next(self, name: Oid) -> Answer:
        i = bisect_right(self.oids, name)
        if i < len(self.oids):
            return self.oids[i], self.values[i]
        return name, "endOfMibView"

    def bulk(
        self, names: Sequence[Oid], non_repeaters: int, max_repetitions: int,
        budget: int = DEFAULT_BUDGET_BYTES,
    ) -> list[Answer]:  # fmt: skip
        """GETBULK: the first `non_repeaters` names once, then rows of the others, until the byte
        budget or max_repetitions runs out (at least one row is always answered)."""
        n = min(max(non_repeaters, 0), len(names))
        answers = [self.next(name) for name in names[:n]]
        size = sum(estimate_size(a) for a in answers)
        cursors = [bisect_right(self.oids, name) for name in names[n:]]
        last = list(names[n:])
        for rep in range(max(max_repetitions, 0)):
            row: list[Answer] = []
            for k, i in enumerate(cursors):
                if i < len(self.oids):
                    row.append((self.oids[i], self.values[i]))
                    cursors[k] = i + 1
                else:
                    row.append((last[k], "endOfMibView"))
            row_size = sum(estimate_size(a) for a in row)
            if rep and (size + row_size > budget or len(answers) + len(row) > MAX_BULK_VARBINDS):
                break
            answers += row
            size += row_size
            last = [a[0] for a in row]
            if all(i >= len(self.oids) for i in cursors) and all(a[1] == "endOfMibView" for a in row):
                break
        return answers


def _oid_size(name: Oid) -> int:
    body = 1 + sum(_subid_size(s) for s in name[2:])
    return body + 2


def _subid_size(sub: int) -> int:
    size = 1
    while sub >= 0x80:
        sub >>= 7
        size += 1
    return size


def estimate_size(answer: Answer) -> int:
    """Upper estimate of one var-bind's BER size."""
    name, value = answer
    if isinstance(value, str):  # an exception value
        return _oid_size(name) + 4
    kind, raw = value
    if kind in ("str", "hex"):
        vsize = len(raw) + 4
    elif kind == "oid":
        vsize = _oid_size(tuple(int(p) for p in raw.split(".")))
    else:
        vsize = 7  # integers, gauges, counters, ticks, ip addresses
    return _oid_size(name) + vsize + 4
