"""Fuzz suite (Hypothesis, bounded for CI): every parser that reads what a device or an agent sends
must answer with a result or its documented refusal, never with an unexpected exception.

- the snapshot parser (collector/ingest.py): a Snapshot, or an ApiError with a 4xx status;
- ONVIF reply parsers (drivers/onvif/parse.py): a result (they are tolerant by contract);
- SNMP (drivers/snmp/parse.py build_report), from real recorded walks with damaged values;
- CLI platforms (drivers/cli/*, build_report), from real recorded outputs, damaged;
- WS-Discovery (drivers/discovery/wsd.py) and mDNS (drivers/discovery/mdns.py) parsing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import ApiError
from collector.ingest import parse_snapshot
from drivers import get_driver
from drivers.cli.base import CliDriver
from drivers.discovery import mdns, wsd
from drivers.onvif import parse as onvif_parse
from drivers.schema import Snapshot
from drivers.snmp.parse import build_report
from drivers.snmp.transport import parse_snmprec
from tests.collector.factory import depot
from tests.hostile.fuzzing import count, damaged, json_values, nasty_text, scalars

# Strategies built from whole recorded outputs have long reprs; Hypothesis warns about it, harmlessly.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
FIXTURES = Path(__file__).parents[1] / "fixtures"
GOOD = json.loads(depot(site_id="depot").canonical_json())


# ---------------------------------------------------------------- snapshot parser


def _parse_or_4xx(body: bytes) -> None:
    try:
        snapshot = parse_snapshot(body)
    except ApiError as exc:
        assert 400 <= exc.status < 500, exc
        assert exc.message and len(exc.message) < 10_000
        return
    assert isinstance(snapshot, Snapshot)
    snapshot.canonical_json()  # what the collector stores must serialise


@given(st.binary(max_size=2000))
def test_fuzz_snapshot_random_bytes(body: bytes):
    count("snapshot: random bytes")
    _parse_or_4xx(body)


@given(json_values(30))
def test_fuzz_snapshot_random_json(value: Any):
    count("snapshot: random JSON")
    _parse_or_4xx(json.dumps(value, allow_nan=True).encode())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(GOOD)[1:]


@given(st.lists(st.tuples(st.sampled_from(PATHS), json_values(6)), min_size=1, max_size=4))
def test_fuzz_snapshot_valid_document_with_hostile_values(edits: list[tuple[tuple[Any, ...], Any]]):
    count("snapshot: valid document, values replaced")
    doc = json.loads(json.dumps(GOOD))
    for path, value in edits:
        node = doc
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit changed the shape under this path
    _parse_or_4xx(json.dumps(doc, allow_nan=True).encode())


# ---------------------------------------------------------------- ONVIF


ONVIF_PARSERS = [
    getattr(onvif_parse, name)
    for name in sorted(dir(onvif_parse))
    if name.startswith("parse_") and callable(getattr(onvif_parse, name))
]


# The element names the parsers look up, so that hostile values land where they are read.
ONVIF_NAMES = [
    "Address", "BitrateLimit", "Configuration", "Content", "DHCP", "DNSFromDHCP", "DNSManual",
    "DNSname", "Date", "Day", "Enabled", "Encoding", "Extension", "FirmwareVersion", "FrameRateLimit",
    "FromDHCP", "GUID", "GovLength", "HardwareId", "Height", "Hour", "HwAddress", "Info", "Major",
    "Manual", "Manufacturer", "MaximumRetentionTime", "Minor", "Minute", "Model", "Month",
    "NTPFromDHCP", "NTPManual", "Name", "Namespace", "NumberRecordings", "Port", "PrefixLength",
    "Quality", "RateControl", "RecordingToken", "Resolution", "ScopeItem", "Second", "SerialNumber",
    "Source", "SourceId", "Time", "UTCDateTime", "Uri", "UserLevel", "Username", "Version",
    "VideoEncoderConfiguration", "Width", "XAddr", "Year", "token", "IPv4", "Config", "Services",
    "Scopes",
]  # fmt: skip
hostile_leaf = st.one_of(
    scalars, st.sampled_from(["a" * 300, "x" * 5000, "10.0.0.300", "-5", "99999999999999999999", "\x00"])
)
onvif_replies = st.recursive(
    st.fixed_dictionaries({}, optional=dict.fromkeys(ONVIF_NAMES, hostile_leaf)),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.fixed_dictionaries({}, optional=dict.fromkeys(ONVIF_NAMES, st.one_of(hostile_leaf, children))),
    ),
    max_leaves=6,
)


@pytest.mark.parametrize("parser", ONVIF_PARSERS, ids=lambda f: f.__name__)
@settings(max_examples=40)
@given(reply=st.one_of(json_values(25), onvif_replies))
def test_fuzz_onvif_reply_parsers_are_tolerant(parser: Any, reply: Any):
    count("onvif: reply parsers")
    parser(reply)


@given(st.lists(nasty_text, max_size=8))
def test_fuzz_onvif_scope_helpers(scopes: list[str]):
    count("onvif: scopes")
    onvif_parse.scope_values(scopes, "name")
    onvif_parse.location_from_scopes(scopes)


@given(nasty_text)
def test_fuzz_onvif_stream_uri_credentials_are_always_stripped(uri: str):
    count("onvif: stream URI")
    onvif_parse.strip_credentials(uri)
    out = onvif_parse.strip_credentials(f"rtsp://admin:hunter22@10.0.0.5/{uri}")
    assert "hunter22" not in out


# ---------------------------------------------------------------- SNMP

SNMP_FOLDERS = sorted(p for p in (FIXTURES / "snmp").iterdir() if (p / "device.snmprec").is_file())
SNMP_ROWS = {p.name: parse_snmprec((p / "device.snmprec").read_text()) for p in SNMP_FOLDERS}
snmp_values = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.binary(max_size=64),
    nasty_text,
)


@given(
    folder=st.sampled_from(sorted(SNMP_ROWS)),
    edits=st.lists(st.tuples(st.integers(0, 10_000), snmp_values), min_size=1, max_size=12),
    extra=st.dictionaries(
        st.sampled_from(
            ["1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.17.7.1.2.2.1.2", "1.0.8802.1.1.2.1.4.1.1.5"]
        ).flatmap(
            lambda base: st.lists(st.integers(0, 2**32), min_size=1, max_size=8).map(
                lambda parts: base + "." + ".".join(map(str, parts))
            )
        ),
        snmp_values,
        max_size=6,
    ),
)
def test_fuzz_snmp_report_from_damaged_walks(
    folder: str, edits: list[tuple[int, Any]], extra: dict[str, Any]
):
    count("snmp: damaged walks")
    rows = dict(SNMP_ROWS[folder])
    oids = sorted(rows)
    for index, value in edits:
        rows[oids[index % len(oids)]] = value
    rows.update(extra)
    build_report("192.0.2.1", rows)  # partial results and notes, never an exception


# ---------------------------------------------------------------- CLI

CLI_FOLDERS = sorted(
    p for p in (FIXTURES / "cli").glob("*/*") if (p / "show_version.txt").is_file() or p.is_dir()
)


def _outputs(folder: Path) -> tuple[type[CliDriver], dict[str, str]]:
    driver = get_driver(f"cli.{folder.parent.name}")
    assert issubclass(driver, CliDriver)
    from drivers.cli.transport import command_filename

    outputs = {}
    for purpose, command in driver.COMMANDS.items():
        path = folder / command_filename(command)
        outputs[purpose] = path.read_text() if path.is_file() else ""
    return driver, outputs


CLI_OUTPUTS = {f"{p.parent.name}/{p.name}": _outputs(p) for p in CLI_FOLDERS if any(p.glob("*.txt"))}


@st.composite
def damaged_cli(draw: st.DrawFn) -> tuple[type[CliDriver], dict[str, str]]:
    driver, outputs = CLI_OUTPUTS[draw(st.sampled_from(sorted(CLI_OUTPUTS)))]
    changed = dict(outputs)
    for purpose in draw(st.lists(st.sampled_from(sorted(outputs)), min_size=1, max_size=3, unique=True)):
        changed[purpose] = draw(damaged(outputs[purpose]))
    return driver, changed


@given(damaged_cli())
def test_fuzz_cli_report_from_damaged_outputs(case: tuple[type[CliDriver], dict[str, str]]):
    count("cli: damaged outputs")
    driver, outputs = case
    driver.build_report("192.0.2.1", outputs)


# ---------------------------------------------------------------- WS-Discovery and mDNS

WSD_SAMPLES = sorted((FIXTURES / "discovery" / "wsd").glob("*.xml"))


@given(st.sampled_from(WSD_SAMPLES).flatmap(lambda p: damaged(p.read_text(errors="replace"))))
def test_fuzz_wsd_probe_matches_damaged(text: str):
    count("wsd: damaged ProbeMatches")
    for match in wsd.parse_probe_matches(text.encode("utf-8", "surrogatepass")):
        wsd.to_candidate(match, "192.0.2.7")


@given(st.binary(max_size=3000))
def test_fuzz_wsd_random_datagrams(data: bytes):
    count("wsd: random datagrams")
    matches = wsd.parse_probe_matches(data)  # must not raise
    assert len(matches) <= wsd.MAX_MATCHES_PER_DATAGRAM
    assert all(len(m.scopes) <= wsd.MAX_ITEMS and len(m.xaddrs) <= wsd.MAX_ITEMS for m in matches)


@given(
    service_type=nasty_text,
    name=nasty_text,
    addresses=st.lists(st.one_of(nasty_text, st.ip_addresses().map(str)), max_size=4),
    properties=st.dictionaries(nasty_text, st.one_of(st.none(), nasty_text), max_size=8),
)
def test_fuzz_mdns_service_to_candidates(service_type, name, addresses, properties):
    count("mdns: resolved services")
    for candidate in mdns.candidate_from_service(service_type, name, addresses, properties):
        assert candidate.ip in addresses
        assert all(len(k) <= 64 and len(v) <= 256 for k, v in candidate.mdns_txt.items())


@given(scalars)
def test_fuzz_scalars_never_break_the_onvif_text_helper(value: Any):
    count("onvif: text helper")
    onvif_parse._text(value)
