"""Run the drivers on every identified host: bounded, timed, retried where it helps, never fatal.

- Concurrency is bounded per protocol pool (onvif / snmp / cli) by one semaphore each.
- Every driver run is wrapped in `asyncio.timeout(budget)`, so a slow or hanging device costs at
  most its own budget, never the scan's.
- Transient faults (DeviceTimeout, Unreachable) are retried; a refused login (AuthError) is not —
  the next credential is tried instead, up to the book's lockout cap.
- Every failure becomes a `Problem` naming the target, driver, stage and kind; messages carry the
  credential's label, never its secret.
- Switches: SNMP first (structured tables, and sysObjectID picks the CLI dialect), then CLI for the
  running-config and as the fallback when SNMP is silent; both reports are merged later.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from agent.config import ScanConfig
from agent.credentials import CredentialBook
from agent.identify import Plan, cli_driver_for, vendor_hint
from drivers.base import Credential, DeviceDriver, DeviceReport
from drivers.errors import AuthError, DeviceTimeout, DriverError, Unreachable
from drivers.schema import Problem, ProblemKind, Role, Stage

log = logging.getLogger(__name__)

TRANSIENT = (DeviceTimeout, Unreachable)
# A speculative ONVIF attempt (host silent to WS-Discovery) that meets no ONVIF service is expected.
QUIET_SPECULATIVE_KINDS = frozenset(
    {ProblemKind.UNREACHABLE, ProblemKind.TIMEOUT, ProblemKind.PROTOCOL, ProblemKind.UNSUPPORTED}
)
# ... but a web server that answers a SOAP request with an oversized, endless or bombed reply is worth
# a named problem even when nothing said it is a camera (an HTML page, as a NAS's web UI sends, is not).
HOSTILE_REPLY_MARKERS = ("refused while reading",)
CLOSE_TIMEOUT_S = 2.0
SERVER_HEADER_TIMEOUT_S = 0.5  # one HEAD on the LAN; a silent web port costs no more than this
# How each kind is logged (Oxidized RESCUE_FAIL): expected network trouble is quiet.
LOG_LEVEL = {
    ProblemKind.UNREACHABLE: logging.DEBUG,
    ProblemKind.TIMEOUT: logging.INFO,
    ProblemKind.AUTH: logging.WARNING,
    ProblemKind.UNSUPPORTED: logging.INFO,
    ProblemKind.PROTOCOL: logging.WARNING,
    ProblemKind.PARSE: logging.ERROR,
    ProblemKind.INTERNAL: logging.ERROR,
}


ServerHeaderProbe = Callable[[str, int, float], Awaitable[str | None]]  # ip, port, timeout -> header


@dataclass
class TargetResult:
    """Everything collection learned about one host."""

    plan: Plan
    reports: list[DeviceReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    # What a speculative ONVIF try met, kept quiet: it becomes a problem if WS-Discovery turns out
    # to have heard the host after all (a late reply; agent/stream.py).
    quiet: list[Problem] = field(default_factory=list)

    @property
    def ip(self) -> str:
        return self.plan.ip


@dataclass
class DriverOutcome:
    report: DeviceReport | None
    problems: list[Problem]
    skipped: bool = False  # not run: no usable credential for its protocol
    quiet: list[Problem] = field(default_factory=list)  # a speculative try's expected failure


class Collector:
    def __init__(
        self,
        config: ScanConfig,
        book: CredentialBook,
        drivers: dict[str, type[DeviceDriver]],
        *,
        server_header: ServerHeaderProbe | None = None,
    ) -> None:
        self.config = config
        # Reads a host's HTTP Server header (drivers.discovery.http_banner); the scan passes the real
        # probe, and a collector without one (tests on made-up addresses) never touches the network.
        self.server_header = server_header
        self.book = book
        self.drivers = drivers
        # Retries are ours (whole driver runs, transient faults only); drivers must not multiply them.
        self.options = config.driver_options().model_copy(update={"retries": 0})
        self.budget_s = config.budget_s()
        self._pools: dict[str, asyncio.Semaphore] = {}

    def scan_resources(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold what the drivers share between devices (DeviceDriver.scan_scope) for one scan."""

        @contextlib.asynccontextmanager
        async def held() -> AsyncIterator[None]:
            async with contextlib.AsyncExitStack() as stack:
                for cls in self.drivers.values():
                    await stack.enter_async_context(cls.scan_scope())
                yield

        return held()

    def _pool(self, protocol: str) -> asyncio.Semaphore:
        if protocol not in self._pools:
            self._pools[protocol] = asyncio.Semaphore(self.config.concurrency.for_protocol(protocol))
        return self._pools[protocol]

    async def collect_all(
        self, plans: Iterable[Plan], on_done: Callable[[TargetResult], None] | None = None
    ) -> list[TargetResult]:
        async def one(plan: Plan) -> TargetResult:
            result = await self.collect_plan(plan)
            if on_done:
                on_done(result)
            return result

        return list(await asyncio.gather(*(one(plan) for plan in plans)))

    async def collect_plan(self, plan: Plan) -> TargetResult:
        """Run the plan's drivers on one host. Never raises (except cancellation)."""
        result = TargetResult(plan=plan)
        started = time.perf_counter()
        try:
            await self._run_plan(plan, result)
        except Exception as exc:  # a bug in our own flow must cost one device, not the scan
            log.exception("%s: collection failed", plan.ip)
            result.problems.append(
                _problem(plan.ip, "agent", ProblemKind.INTERNAL, f"collection failed: {exc!r}")
            )
        result.seconds = time.perf_counter() - started
        return result

    async def _run_plan(self, plan: Plan, result: TargetResult) -> None:
        plan = result.plan = await self._with_server_header(plan)
        vendor = vendor_hint(plan.candidate)
        if plan.onvif and not plan.onvif_speculative and await self._use(plan.onvif, plan, result, vendor):
            return
        snmp_report = None
        snmp_problems: list[Problem] = []
        snmp_skipped = False
        if plan.snmp:
            outcome = await self.run_driver(plan.snmp, plan, vendor=vendor)
            snmp_problems, snmp_skipped = outcome.problems, outcome.skipped
            if outcome.report is not None:
                result.reports.append(outcome.report)
                snmp_report = outcome.report
        is_switch = snmp_report is not None and (
            snmp_report.role is Role.SWITCH or snmp_report.switch is not None
        )
        if (
            plan.onvif
            and plan.onvif_speculative
            and not is_switch
            and await self._use(plan.onvif, plan, result, vendor, speculative=True)
        ):
            return
        dialect = cli_driver_for(plan, snmp_report if is_switch else None, self.drivers)
        cli_ok = False
        if dialect and (is_switch or plan.cli) and self._ssh_may_answer(plan):
            switch_vendor = (
                snmp_report.identity.vendor if snmp_report and snmp_report.identity else None
            ) or vendor
            # Without sysObjectID the dialect is a guess: when the login works but the output is not
            # that dialect's, the next candidate dialect gets its turn (same credential, no lockout risk).
            guesses = [dialect] if is_switch else [dialect, *(d for d in plan.cli if d != dialect)]
            for guess in guesses:
                outcome = await self.run_driver(guess, plan, vendor=switch_vendor)
                if outcome.report is not None and recognised(outcome.report):
                    result.reports.append(outcome.report)
                    result.problems.extend(outcome.problems)
                    cli_ok = True
                    break
                wrong_dialect = outcome.report is not None or any(
                    p.kind in (ProblemKind.PARSE, ProblemKind.PROTOCOL) for p in outcome.problems
                )
                if guess == guesses[-1] or not wrong_dialect:
                    if outcome.report is not None:
                        result.reports.append(outcome.report)
                    result.problems.extend(outcome.problems)
                    cli_ok = outcome.report is not None
                    break
                log.info("%s: output is not %s; trying the next dialect", plan.ip, guess)
        # Most hosts do not speak SNMP at all: its silence (or our lack of a community for it) is a
        # problem only on a switch.
        switchy = cli_ok or bool(plan.cli)
        result.problems.extend(
            p
            for p in snmp_problems
            if switchy or (p.kind not in QUIET_SPECULATIVE_KINDS and not snmp_skipped)
        )

    async def _with_server_header(self, plan: Plan) -> Plan:
        """When no discovery hint names the vendor but a web port is open, its HTTP Server header
        may ("App-webs/", "Webs"): one bounded HEAD, before the first login orders the credentials."""
        c = plan.candidate
        web_port = next((p for p in (self.config.ports.http, 80) if p in c.open_ports), None)
        if self.server_header is None or web_port is None:
            return plan
        if c.http_server is not None or vendor_hint(c) is not None:
            return plan
        header = await self.server_header(c.ip, web_port, SERVER_HEADER_TIMEOUT_S)
        if header is None:
            return plan
        return dataclasses.replace(plan, candidate=c.model_copy(update={"http_server": header}))

    def _ssh_may_answer(self, plan: Plan) -> bool:
        """False when the sweep probed the host's ports and SSH was not open: a login would only wait
        for a port that is closed or filtered."""
        c = plan.candidate
        probed = "tcp" in c.sources or bool(c.open_ports)
        return not probed or bool({self.config.ports.ssh, 22} & c.open_ports)

    async def _use(
        self, name: str, plan: Plan, result: TargetResult, vendor: str | None, *, speculative: bool = False
    ) -> bool:
        outcome = await self.run_driver(name, plan, vendor=vendor, speculative=speculative)
        result.problems.extend(outcome.problems)
        result.quiet.extend(outcome.quiet)
        if outcome.report is not None:
            result.reports.append(outcome.report)
            return True
        return False

    async def run_driver(
        self,
        name: str,
        plan: Plan,
        *,
        vendor: str | None = None,
        speculative: bool = False,
    ) -> DriverOutcome:
        """One driver on one host: credentials in order, retries for transient faults only."""
        cls = self.drivers[name]
        ip, mac = plan.ip, plan.candidate.mac
        credentials: list[Credential | None] = (
            list(self.book.candidates(name, ip=ip, mac=mac, vendor=vendor, protocol=cls.protocol))
            if cls.needs_credential
            else []
        )
        if not credentials and cls.needs_credential and cls.protocol != "onvif":
            message = f"no credential for {cls.protocol} configured for this device"
            return DriverOutcome(None, [_problem(ip, name, ProblemKind.AUTH, message)], skipped=True)
        if not credentials:
            credentials = [None]  # ONVIF may answer anonymously; drivers without logins need none
        refused: list[str] = []
        problem: Problem | None = None
        for credential in credentials:
            if credential is not None and not self.book.may_try(cls.protocol, ip=ip, mac=mac):
                problem = _problem(
                    ip,
                    name,
                    ProblemKind.AUTH,
                    f"login refused with {_labels(refused)}; stopped after {self.book.max_failures} refusals "
                    "so the account is not locked out",
                )
                break
            report, error = await self._attempts(cls, ip, credential)
            if report is not None:
                if credential is not None:
                    self.book.record_success(name, credential.name, ip=ip, mac=mac)
                    if report.credential is None:
                        report = report.model_copy(update={"credential": credential.name})
                return DriverOutcome(report, [])
            assert error is not None
            if (
                isinstance(error, DeviceTimeout)
                and cls.protocol == "snmp"
                and len(refused) + 1 < self.book.max_failures
            ):
                # An SNMPv2c agent ignores a wrong community: silence may mean "try the next one".
                refused.append(credential.name if credential is not None else "no credential")
                problem = _problem(ip, name, error.kind, _describe(error))
                continue
            if isinstance(error, AuthError):
                label = credential.name if credential is not None else "no credential"
                refused.append(label)
                if credential is not None:
                    self.book.record_failure(cls.protocol, ip=ip, mac=mac)
                problem = _problem(ip, name, ProblemKind.AUTH, f"login refused with {_labels(refused)}")
                continue
            problem = _problem(ip, name, error.kind, _describe(error))
            break
        if problem is None:
            return DriverOutcome(None, [])
        log.log(LOG_LEVEL.get(problem.kind, logging.WARNING), "%s: %s: %s", ip, name, problem.message)
        if speculative and problem.kind in QUIET_SPECULATIVE_KINDS and not _hostile_reply(problem):
            return DriverOutcome(None, [], quiet=[problem])
        return DriverOutcome(None, [problem])

    async def _attempts(
        self, cls: type[DeviceDriver], ip: str, credential: Credential | None
    ) -> tuple[DeviceReport | None, DriverError | None]:
        error: DriverError | None = None
        for attempt in range(self.config.retries + 1):
            driver = cls(ip, credential, self.options)
            try:
                async with self._pool(cls.protocol):
                    async with asyncio.timeout(self.budget_s):
                        return await driver.collect(), None
            except TimeoutError:
                # Our own budget ran out: the device is too slow; retrying would only double the cost.
                return None, DeviceTimeout(f"no complete answer within {self.budget_s:g} s")
            except TRANSIENT as exc:
                error = exc
                log.debug("%s: %s attempt %d: %s", ip, cls.name, attempt + 1, exc)
            except DriverError as exc:
                return None, exc
            except Exception as exc:  # a driver broke its contract: record it, keep scanning
                log.exception("%s: %s raised outside the driver contract", ip, cls.name)
                internal = DriverError(f"driver error: {type(exc).__name__}: {exc}")
                return None, internal
            finally:
                await _close(driver)
        return None, error


def recognised(report: DeviceReport) -> bool:
    """A CLI report in which the dialect's parser recognised the device (it found who it is)."""
    ident = report.identity
    return ident is not None and any((ident.model, ident.serial, ident.firmware, ident.mac))


async def _close(driver: DeviceDriver) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await driver.close()


def _labels(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "no credential"


def _describe(error: DriverError) -> str:
    text = str(error) or type(error).__name__
    if error.operation:
        text = f"{error.operation}: {text}"
    return text[:2000]


def _problem(target: str, driver: str, kind: ProblemKind, message: str) -> Problem:
    return Problem(target=target, driver=driver, stage=Stage.COLLECT, kind=kind, message=message[:2000])


def _hostile_reply(problem: Problem) -> bool:
    return any(marker in problem.message for marker in HOSTILE_REPLY_MARKERS)
