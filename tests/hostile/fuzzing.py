"""Shared Hypothesis settings and strategies for the fuzz suite, and a tally of the examples run
(printed at the end of the session by tests/hostile/conftest.py)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES_RUN: Counter[str] = Counter()

# Bounded for CI: the whole suite runs in well under a minute on a loaded 2-core machine. Set
# ASBUILT_FUZZ_EXAMPLES for a longer local run (e.g. 5000).
settings.register_profile(
    "ci",
    max_examples=120,
    deadline=None,
    database=None,  # nothing written into the checkout; failures print their reproduction
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
settings.register_profile(
    "long",
    parent=settings.get_profile("ci"),
    max_examples=int(os.environ.get("ASBUILT_FUZZ_EXAMPLES") or 120),
)
settings.load_profile("long" if os.environ.get("ASBUILT_FUZZ_EXAMPLES") else "ci")


def count(name: str) -> None:
    EXAMPLES_RUN[name] += 1


# Text that hurts: NUL and other controls, lone surrogates, huge code points, long runs, XML/JSON syntax.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=30),
    st.sampled_from(["\x00", "\ud800", "\udfff", "\ufffe", "\u202e", "%00", "<![CDATA[", "]]>", "&amp;",
                     "-1", "1e999", "NaN", "٣", "²", "9" * 5000, "a" * 5000, " ", "\t\n", "..", "/"]),
)  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(nasty_text, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


@st.composite
def damaged(draw: st.DrawFn, text: str) -> str:
    """A real device output, damaged: cut short, a line replaced or repeated, bytes injected."""
    out = text.splitlines(keepends=True) or [""]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "replace", "repeat", "inject", "drop"]))
        i = draw(st.integers(0, max(0, len(out) - 1)))
        if kind == "cut":
            out = out[:i]
        elif not out:
            continue
        elif kind == "replace":
            out[i] = draw(nasty_text) + "\n"
        elif kind == "repeat":
            out[i:i] = [out[i]] * draw(st.integers(1, 50))
        elif kind == "inject":
            at = draw(st.integers(0, len(out[i])))
            out[i] = out[i][:at] + draw(nasty_text) + out[i][at:]
        else:
            del out[i]
    return "".join(out)
