"""The snapshot content hash and fingerprint, from one dump of the significant fields.

``Snapshot.content_hash()`` (drivers/schema.py) is the definition: sha256 of the canonical JSON of
the snapshot without its volatile fields (keys sorted, ``json.dumps`` formatting). It walks every
record in Python, which takes a few hundred milliseconds for 1,000 devices. Here the volatile fields
become an exclusion tree derived once from the record classes, handed to pydantic's (Rust) JSON
serializer: ``significant_json`` is that one dump. Its sha256 is the **fingerprint**; the content
hash re-sorts the same bytes with orjson (Rust too). orjson writes every JSON value as ``json.dumps``
does except floats below 1e-4 or from 1e16 up (``1e-5`` comes out ``0.00001``): a snapshot holding
such a significant float takes the exact ``json.dumps`` path. tests/collector/test_hashing.py proves
both agree.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import typing
from collections.abc import Callable
from typing import Any

import orjson

from drivers.schema import Record, Snapshot, canonical_dumps

ExcludeTree = dict[str, Any]


def _records_in(annotation: Any) -> tuple[type[Record] | None, bool]:
    """The Record class inside a field's annotation, and whether it is a sequence of them."""
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return annotation, False
    origin = typing.get_origin(annotation)
    for arg in typing.get_args(annotation):
        found, many = _records_in(arg)
        if found is not None:
            return found, many or origin in (tuple, list)
    return None, False


@functools.cache
def volatile_exclude(cls: type[Record]) -> ExcludeTree:
    """For ``model_dump(exclude=...)``: every volatile field of ``cls`` and of the records it holds."""
    tree: ExcludeTree = {}
    for name, field in cls.model_fields.items():
        if name in cls.VOLATILE:
            tree[name] = True
            continue
        inner, many = _records_in(field.annotation)
        if inner is None:
            continue
        sub = volatile_exclude(inner)
        if sub:
            tree[name] = {"__all__": sub} if many else sub
    return tree


FloatTree = dict[str, Any]  # field → True (a float) or (is_many, subtree)


@functools.cache
def _significant_floats(cls: type[Record]) -> FloatTree:
    """Where ``cls`` and the records it holds keep significant float fields."""
    tree: FloatTree = {}
    for name, field in cls.model_fields.items():
        if name in cls.VOLATILE:
            continue
        if _holds_float(field.annotation):
            tree[name] = True
            continue
        inner, many = _records_in(field.annotation)
        if inner is not None and (sub := _significant_floats(inner)):
            tree[name] = (many, sub)
    return tree


def _holds_float(annotation: Any) -> bool:
    return annotation is float or any(_holds_float(a) for a in typing.get_args(annotation))


def _float_alike(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_float_alike(v) for v in value)
    return not isinstance(value, float) or value == 0 or 1e-4 <= abs(value) < 1e16


Check = Callable[[Any], bool]
Getter = Callable[[Any], Any]


def _leaf(get: Getter, record: Any) -> bool:
    return _float_alike(get(record))


def _each(get: Getter, inner: Check, record: Any) -> bool:
    return all(inner(item) for item in get(record))


def _one(get: Getter, inner: Check, record: Any) -> bool:
    value = get(record)
    return value is None or inner(value)


def _every(checks: tuple[Check, ...], record: Any) -> bool:
    return all(check(record) for check in checks)


@functools.cache
def _float_check(cls: type[Record]) -> Check:
    """A function telling whether every significant float of a ``cls`` record is one orjson writes as
    ``json.dumps`` does; it visits only the fields on the way to a float."""
    checks: list[Check] = []
    for name, sub in _significant_floats(cls).items():
        get = operator.attrgetter(name)
        if sub is True:
            checks.append(functools.partial(_leaf, get))
            continue
        many, _ = sub
        inner_cls, _ = _records_in(cls.model_fields[name].annotation)
        assert inner_cls is not None
        checks.append(functools.partial(_each if many else _one, get, _float_check(inner_cls)))
    return functools.partial(_every, tuple(checks))


def _orjson_writes_floats_alike(snapshot: Snapshot) -> bool:
    return _float_check(Snapshot)(snapshot)


def significant_json(snapshot: Snapshot) -> bytes:
    """The significant fields as pydantic's Rust JSON: declaration order, records in key order."""
    return snapshot.__pydantic_serializer__.to_json(snapshot, exclude=volatile_exclude(Snapshot))


def content_hash(snapshot: Snapshot, significant: bytes | None = None) -> str:
    """Equal to ``snapshot.content_hash()``, faster; pass ``significant_json(snapshot)`` if you have it."""
    data = orjson.loads(significant if significant is not None else significant_json(snapshot))
    if _orjson_writes_floats_alike(snapshot):
        canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    else:
        canonical = canonical_dumps(data).encode()
    return hashlib.sha256(canonical).hexdigest()


def fingerprint(snapshot: Snapshot, significant: bytes | None = None) -> str:
    """sha256 of ``significant_json``: no sorted keys, so not the content hash, but equal for equal
    content (records are sorted when a snapshot is validated) and cheaper. Ingest compares it first;
    only an unequal one costs the content hash."""
    return hashlib.sha256(significant if significant is not None else significant_json(snapshot)).hexdigest()
