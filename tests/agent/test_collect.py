"""Collection flow: credential rotation and lockout cap, retries only for transient faults, the per-device
budget, SNMP → CLI for switches, and failures as Problems (with labels, never secrets)."""

from __future__ import annotations

import pytest

from agent.collect import Collector, TargetResult
from agent.config import ScanConfig
from agent.credentials import CredentialBook, parse_credentials
from agent.identify import Plan, plan_for
from drivers.base import DeviceDriver, Ports
from drivers.schema import ProblemKind, Role
from tests.agent import fakes
from tests.agent.fakes import Behaviour, fake_drivers
from tests.agent.synth import candidate

PORTS = Ports(http=8080, snmp=1161, ssh=2222)
CREDS = [{"name": f"cred-{i}", "username": "admin", "password": f"pw-{i}"} for i in range(5)]


@pytest.fixture(autouse=True)
def fresh_behaviour(monkeypatch: pytest.MonkeyPatch) -> Behaviour:
    behaviour = Behaviour()
    monkeypatch.setattr(fakes, "BEHAVIOUR", behaviour)
    return behaviour


def collector(**config: object) -> tuple[Collector, CredentialBook]:
    cfg = ScanConfig.model_validate({"scopes": ["10.0.0.0/24"], "ports": PORTS.model_dump(), **config})
    book = CredentialBook(parse_credentials(CREDS), max_failures=cfg.max_auth_failures)
    return Collector(cfg, book, fake_drivers()), book


def camera(ip: str) -> Plan:
    return plan_for(candidate(ip, sources={"wsd"}, wsd_endpoint=f"urn:uuid:{ip}"), fake_drivers(), PORTS)


async def run(c: Collector, *plans: Plan) -> list[TargetResult]:
    return await c.collect_all(plans)


async def test_credentials_are_rotated_until_one_works_and_it_is_remembered() -> None:
    fakes.BEHAVIOUR.passwords["10.0.0.5"] = "pw-2"
    c, book = collector()
    (result,) = await run(c, camera("10.0.0.5"))
    assert [r.credential for r in result.reports] == ["cred-2"]
    assert result.problems == []
    assert book.worked("onvif", ip="10.0.0.5") == "cred-2"
    fakes.BEHAVIOUR.calls.clear()
    await run(c, camera("10.0.0.5"))
    assert fakes.BEHAVIOUR.calls == [("onvif", "10.0.0.5", "cred-2")]  # straight to what worked


async def test_refused_logins_stop_at_the_lockout_cap_and_name_only_labels() -> None:
    fakes.BEHAVIOUR.passwords["10.0.0.6"] = "something-else"
    c, _ = collector(max_auth_failures=3)
    (result,) = await run(c, camera("10.0.0.6"))
    assert [call[2] for call in fakes.BEHAVIOUR.calls] == ["cred-0", "cred-1", "cred-2"]
    (problem,) = result.problems
    assert problem.kind is ProblemKind.AUTH and problem.driver == "onvif"
    assert "'cred-0', 'cred-1', 'cred-2'" in problem.message and "locked out" in problem.message
    assert "pw-" not in problem.message


async def test_transient_faults_are_retried_auth_is_not() -> None:
    fakes.BEHAVIOUR.flaky["10.0.0.7"] = 1
    c, _ = collector(retries=1)
    (result,) = await run(c, camera("10.0.0.7"))
    assert result.reports and not result.problems
    assert [call[2] for call in fakes.BEHAVIOUR.calls] == ["cred-0", "cred-0"]


async def test_unreachable_after_retries_is_one_problem_and_no_further_credentials() -> None:
    fakes.BEHAVIOUR.silent.add("10.0.0.8")
    c, _ = collector(retries=2)
    (result,) = await run(c, camera("10.0.0.8"))
    assert len(fakes.BEHAVIOUR.calls) == 3 and {call[2] for call in fakes.BEHAVIOUR.calls} == {"cred-0"}
    assert [p.kind for p in result.problems] == [ProblemKind.UNREACHABLE]


async def test_protocol_fault_becomes_a_problem_not_a_crash() -> None:
    fakes.BEHAVIOUR.broken.add("10.0.0.9")
    c, _ = collector()
    (result,) = await run(c, camera("10.0.0.9"))
    assert [p.kind for p in result.problems] == [ProblemKind.PROTOCOL]
    assert "invalid XML" in result.problems[0].message


async def test_a_slow_device_costs_its_own_budget_only() -> None:
    fakes.BEHAVIOUR.delay["10.0.0.10"] = 30
    c, _ = collector(device_budget_s=0.3, retries=3)
    finished: list[str] = []
    plans = [camera("10.0.0.11"), camera("10.0.0.10"), camera("10.0.0.12")]
    results = await c.collect_all(plans, on_done=lambda r: finished.append(r.ip))
    assert finished[-1] == "10.0.0.10"
    slow = next(r for r in results if r.ip == "10.0.0.10")
    assert [p.kind for p in slow.problems] == [ProblemKind.TIMEOUT]
    assert (
        len([c for c in fakes.BEHAVIOUR.calls if c[1] == "10.0.0.10"]) == 1
    )  # budget exhaustion is not retried
    assert [r.ip for r in results] == ["10.0.0.11", "10.0.0.10", "10.0.0.12"]  # results in plan order


async def test_switch_runs_snmp_then_the_cli_dialect_its_sys_object_id_names() -> None:
    fakes.BEHAVIOUR.sys_object_id["10.0.0.3"] = "1.3.6.1.4.1.11.2.3.7.11.181"
    plan = plan_for(
        candidate("10.0.0.3", sources={"arp", "tcp"}, open_ports={2222, 8080}), fake_drivers(), PORTS
    )
    c, _ = collector()
    (result,) = await run(c, plan)
    assert [r.driver for r in result.reports] == ["snmp", "cli.hp_procurve"]
    assert [call[0] for call in fakes.BEHAVIOUR.calls] == [
        "snmp",
        "cli.hp_procurve",
    ]  # no ONVIF try on a switch


async def test_switch_with_silent_snmp_falls_back_to_cli_and_reports_the_silence() -> None:
    plan = plan_for(candidate("10.0.0.4", sources={"arp", "tcp"}, open_ports={2222}), fake_drivers(), PORTS)
    fakes.BEHAVIOUR.flaky["10.0.0.4"] = 2  # SNMP times out twice (try + retry); CLI then answers
    c, _ = collector(retries=1)
    (result,) = await run(c, plan)
    assert [r.driver for r in result.reports] == ["cli.cisco_ios"]
    assert [(p.driver, p.kind) for p in result.problems] == [("snmp", ProblemKind.TIMEOUT)]


async def test_without_sys_object_id_a_wrong_cli_dialect_gives_way_to_the_next() -> None:
    fakes.BEHAVIOUR.silent.add("10.0.0.5")  # no SNMP at all (silent for every driver first)
    fakes.BEHAVIOUR.dialect["10.0.0.5"] = "cli.hp_procurve"
    plan = plan_for(candidate("10.0.0.5", sources={"arp", "tcp"}, open_ports={2222}), fake_drivers(), PORTS)
    original = Collector.run_driver

    async def snmp_silent_only(self, name, plan, **kw):
        if name != "snmp":
            fakes.BEHAVIOUR.silent.discard("10.0.0.5")
        return await original(self, name, plan, **kw)

    c, _ = collector(retries=0)
    c.run_driver = snmp_silent_only.__get__(c)  # type: ignore[method-assign]
    (result,) = await run(c, plan)
    assert [call[0] for call in fakes.BEHAVIOUR.calls] == ["snmp", "cli.cisco_ios", "cli.hp_procurve"]
    assert [r.driver for r in result.reports] == ["cli.hp_procurve"]
    assert [(p.driver, p.kind) for p in result.problems] == [("snmp", ProblemKind.UNREACHABLE)]


async def test_no_snmp_credential_skips_snmp_quietly_on_a_non_switch() -> None:
    class NeedsCommunity(fakes.FakeSnmp):
        needs_credential = True

    drivers: dict[str, type[DeviceDriver]] = {**fake_drivers(), "snmp": NeedsCommunity}
    cfg = ScanConfig(scopes=("10.0.0.0/24",), ports=PORTS)
    c = Collector(cfg, CredentialBook(parse_credentials(CREDS[:1])), drivers)
    camera_less = plan_for(candidate("10.0.0.30", sources={"arp"}), drivers, PORTS)
    (result,) = await c.collect_all([camera_less])
    assert fakes.BEHAVIOUR.calls == [] and result.problems == []  # never run: no community configured
    switch = plan_for(candidate("10.0.0.31", sources={"arp"}, open_ports={2222}), drivers, PORTS)
    (result,) = await c.collect_all([switch])
    assert [(p.driver, p.kind) for p in result.problems[:1]] == [("snmp", ProblemKind.AUTH)]
    assert "no credential for snmp" in result.problems[0].message


async def test_silent_non_switch_host_gives_no_problem_and_no_report() -> None:
    fakes.BEHAVIOUR.silent.add("10.0.0.20")
    plan = plan_for(candidate("10.0.0.20", sources={"arp"}, open_ports={8080}), fake_drivers(), PORTS)
    c, _ = collector()
    (result,) = await run(c, plan)
    assert result.reports == [] and result.problems == []  # SNMP and speculative ONVIF are quiet
    assert [call[0] for call in fakes.BEHAVIOUR.calls] == ["snmp", "snmp", "onvif", "onvif"]


async def test_speculative_onvif_that_answers_is_used() -> None:
    plan = plan_for(candidate("10.0.0.21", sources={"arp"}, open_ports={8080}), fake_drivers(), PORTS)
    fakes.BEHAVIOUR.silent.add("10.0.0.21")
    c, _ = collector(retries=0)
    # SNMP silent (quiet), then ONVIF: still silent here, so make it answer by clearing the fault
    original = c.run_driver

    async def clear_then_run(name, plan, **kw):
        if name == "onvif":
            fakes.BEHAVIOUR.silent.discard("10.0.0.21")
        return await original(name, plan, **kw)

    c.run_driver = clear_then_run  # type: ignore[method-assign]
    (result,) = await run(c, plan)
    assert [r.driver for r in result.reports] == ["onvif"] and result.reports[0].role is Role.CAMERA
