"""One interactive CLI session on a simulated switch, independent of SSH: text in, text out.

`LineReader` turns keystrokes into lines with the echo a terminal expects (none while a password is
typed). `CliSession` is the switch side: prompts, `enable` with its password, paging with --More--
until `terminal length 0` / `no page`, `| include` filters, logout, and the dialect's error texts.
The switch is looked up on every command, so a change to the lab site shows in the next output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from lab.site import Dialect, LabSite, Switch
from lab.switch_cli import cisco_ios, hp_procurve
from lab.switch_cli.grammar import Grammar, Match, Problem

MAX_LINE = 512  # longer input is refused with a bell, as IOS and ProCurve do
DEFAULT_PAGE_LENGTH = 24
PASSWORD_TRIES = 3

Renderer = Callable[[LabSite, Switch], str]
ArgumentRenderer = Callable[[LabSite, Switch, str], str]
Lookup = Callable[[], tuple[LabSite, Switch] | None]


@dataclass(frozen=True)
class DialectSpec:
    """What differs between CLI dialects, as far as a session is concerned."""

    grammar: Grammar
    commands: Mapping[str, Renderer]
    argument_commands: Mapping[str, ArgumentRenderer]
    prompt: Callable[[Switch, bool], str]
    error: Callable[[Problem, str, str], str]  # (problem, typed line, prompt) -> error text
    banner: Callable[[Switch], str] | None  # text ending in "Press any key", or None
    starts_privileged: bool  # ProCurve's manager lands in '#', an IOS user in '>'
    more_prompt: str
    confirm_logout: bool
    clear_screen: str = ""  # sent after the banner key, before the first prompt


_UNKNOWN_HOST = "% Unknown command or computer name, or unable to find computer address"


def _cisco_error(problem: Problem, line: str, prompt: str) -> str:
    if problem.kind == "ambiguous":
        return f'% Ambiguous command:  "{line.strip()}"\n'
    if problem.kind == "incomplete":
        return "% Incomplete command.\n\n"
    if problem.word_index == 0 and len(line.split()) == 1:
        # IOS takes a lone unknown word for a host name to telnet to (ip domain-lookup is off).
        return f'Translating "{problem.word}"\n\n{_UNKNOWN_HOST}\n'
    return " " * (len(prompt) + problem.column) + "^\n% Invalid input detected at '^' marker.\n\n"


def _procurve_error(problem: Problem, line: str, prompt: str) -> str:
    if problem.kind == "incomplete":
        return f"Incomplete input: {problem.word}\n"
    return f"Invalid input: {problem.word}\n"


SPECS: dict[Dialect, DialectSpec] = {
    Dialect.CISCO_IOS: DialectSpec(
        grammar=cisco_ios.GRAMMAR,
        commands=cisco_ios.COMMANDS,
        argument_commands={},
        prompt=cisco_ios.prompt,
        error=_cisco_error,
        banner=None,
        starts_privileged=False,
        more_prompt=" --More-- ",
        confirm_logout=False,
    ),
    Dialect.HP_PROCURVE: DialectSpec(
        grammar=hp_procurve.GRAMMAR,
        commands=hp_procurve.COMMANDS,
        argument_commands=hp_procurve.ARGUMENT_COMMANDS,
        prompt=hp_procurve.prompt,
        error=_procurve_error,
        banner=hp_procurve.banner,
        starts_privileged=True,
        more_prompt="-- MORE --, next page: Space, next line: Enter, quit: Control-C",
        confirm_logout=True,
        # The 2530 clears the screen and sets a scroll region after the key (netmiko strips these).
        clear_screen="\x1b[2J\x1b[?7l\x1b[3;23r\x1b[?6l\x1b[24;1H\x1b[?25h\x1b[24;1H",
    ),
}


class LineReader:
    """Keystrokes to lines, producing the echo a terminal user (or netmiko) expects."""

    def __init__(self, max_length: int = MAX_LINE) -> None:
        self._buffer = ""
        self._max = max_length
        self._after_cr = False

    def push(self, char: str, echo: bool, single_key: bool) -> tuple[str, str | None]:
        """Feed one character: returns (text to echo, completed line or key, or None)."""
        after_cr, self._after_cr = self._after_cr, char == "\r"
        if char == "\n" and after_cr:
            return "", None  # the LF of a CR LF pair
        if single_key:
            return "", char
        if char in "\r\n":
            line, self._buffer = self._buffer, ""
            return "\r\n", line
        if char in "\x7f\x08":
            if not self._buffer:
                return "", None
            self._buffer = self._buffer[:-1]
            return ("\b \b" if echo else ""), None
        if char == "\x03":  # Ctrl-C abandons the line
            self._buffer = ""
            return "\r\n", ""
        if char == "\x15":  # Ctrl-U erases it
            erase = "\b \b" * len(self._buffer) if echo else ""
            self._buffer = ""
            return erase, None
        if ord(char) < 32 or char == "\x7f":
            return "", None
        if len(self._buffer) >= self._max:
            return "\x07", None
        self._buffer += char
        return (char if echo else ""), None


class RenderCache:
    """Rendered outputs of one site version, shared by the sessions of one switch.

    The lab replaces the site object whole on every change, so outputs stay valid exactly as long
    as the site object is the same one; rendering a large site's port tables costs ~0.5 s.
    """

    def __init__(self) -> None:
        self._site: LabSite | None = None
        self._texts: dict[tuple[str, str, str], str] = {}

    def render(self, spec: DialectSpec, site: LabSite, switch: Switch, key: str, argument: str) -> str:
        if site is not self._site:
            self._site, self._texts = site, {}
        texts = self._texts
        wanted = (switch.name, key, argument)
        if wanted not in texts:
            if argument and key in spec.argument_commands:
                texts[wanted] = spec.argument_commands[key](site, switch, argument)
            else:
                texts[wanted] = spec.commands[key](site, switch)
        return texts[wanted]


@dataclass(frozen=True)
class Reply:
    text: str
    close: bool = False


State = Literal["banner", "command", "password", "more", "confirm_logout"]


class CliSession:
    """The switch's side of one session. `handle` takes a line (or a key) and returns what to send."""

    def __init__(self, spec: DialectSpec, lookup: Lookup, cache: RenderCache | None = None) -> None:
        self.spec = spec
        self._lookup = lookup
        self._cache = cache or RenderCache()
        self.privileged = spec.starts_privileged
        self.page_length = DEFAULT_PAGE_LENGTH
        self.state: State = "banner" if spec.banner else "command"
        self._pending: list[str] = []
        self._tries = 0

    @property
    def echo(self) -> bool:
        return self.state != "password"

    @property
    def single_key(self) -> bool:
        """Whether the next keystroke acts alone (any-key banner, pager, y/n question)."""
        return self.state in ("banner", "more", "confirm_logout")

    def start(self) -> str:
        found = self._lookup()
        if found is None:
            return ""
        _, switch = found
        if self.spec.banner is not None:
            return _wire(self.spec.banner(switch))
        return "\r\n" + self._prompt(switch)

    def handle(self, line: str) -> Reply:
        found = self._lookup()
        if found is None:
            return Reply("", close=True)  # the switch was removed from the site
        site, switch = found
        if self.state == "banner":
            self.state = "command"
            return Reply(self.spec.clear_screen + self._prompt(switch))
        if self.state == "more":
            return self._more(line, switch)
        if self.state == "password":
            return self._password(line, switch)
        if self.state == "confirm_logout":
            if line.lower() == "y":
                return Reply("\r\n", close=True)
            self.state = "command"
            return Reply("\r\n" + self._prompt(switch))
        return self._command(line, site, switch)

    def run_once(self, line: str) -> str:
        """An SSH exec request ("ssh switch show version"): the output alone, never paged."""
        found = self._lookup()
        if found is None:
            return ""
        site, switch = found
        self.page_length = 0
        return self._command(line, site, switch, with_prompt=False).text

    # ------------------------------------------------------------ internals

    def _prompt(self, switch: Switch) -> str:
        return self.spec.prompt(switch, self.privileged)

    def _command(self, line: str, site: LabSite, switch: Switch, with_prompt: bool = True) -> Reply:
        prompt = self._prompt(switch)
        tail = prompt if with_prompt else ""
        command_text, pipe = _split_pipe(line)
        result = self.spec.grammar.resolve(command_text, self.privileged)
        if isinstance(result, Problem):
            if result.kind == "empty":
                return Reply(tail)
            return Reply(_wire(self.spec.error(result, line, prompt)) + tail)
        key = result.command.key
        builtin = self._builtin(key, result, switch)
        if builtin is not None:
            return builtin
        text = self._cache.render(self.spec, site, switch, key, result.argument)
        if pipe is not None:
            filtered = _apply_pipe(text, pipe)
            if filtered is None:
                return Reply(
                    _wire(self.spec.error(Problem("invalid", pipe, line.find(pipe)), line, prompt)) + tail
                )
            text = filtered
        return self._paged(text.splitlines(), switch, tail)

    def _builtin(self, key: str, match: Match, switch: Switch) -> Reply | None:
        prompt = self._prompt(switch)
        if key == "enable":
            if self.privileged:
                return Reply(prompt)
            if not switch.enable_secret:
                return Reply(_wire("% No password set\n") + prompt)
            self.state, self._tries = "password", 0
            return Reply("Password: ")
        if key == "disable":
            self.privileged = False
            return Reply(self._prompt(switch))
        if key in ("exit", "logout", "quit"):
            if self.spec.confirm_logout:
                self.state = "confirm_logout"
                return Reply("Do you want to log out [y/n]? ")
            return Reply("", close=True)
        if key in ("terminal length", "terminal width"):
            value = match.argument
            if not value.isdigit() or int(value) > 512:
                word = value.split()[0] if value else ""
                problem = Problem("invalid" if word else "incomplete", word, len(key) + 1, 2)
                return Reply(_wire(self.spec.error(problem, f"{key} {value}", prompt)) + prompt)
            if key == "terminal length":
                self.page_length = int(value)
            return Reply(prompt)
        if key == "no page":
            self.page_length = 0
            return Reply(prompt)
        if key == "page":
            self.page_length = DEFAULT_PAGE_LENGTH
            return Reply(prompt)
        return None

    def _password(self, line: str, switch: Switch) -> Reply:
        if line == switch.enable_secret:
            self.state, self.privileged = "command", True
            return Reply(self._prompt(switch))
        self._tries += 1
        if self._tries < PASSWORD_TRIES:
            return Reply("Password: ")
        self.state = "command"
        return Reply(_wire("% Bad secrets\n\n") + self._prompt(switch))

    def _paged(self, lines: list[str], switch: Switch, tail: str) -> Reply:
        page = self.page_length - 1
        if page <= 0 or len(lines) <= page:
            return Reply(_wire("\n".join(lines) + "\n") + tail if lines else tail)
        self._pending = lines[page:]
        self.state = "more"
        return Reply(_wire("\n".join(lines[:page]) + "\n") + self.spec.more_prompt)

    def _more(self, key: str, switch: Switch) -> Reply:
        erase = "\r" + " " * len(self.spec.more_prompt) + "\r"
        if key == " ":
            count = max(self.page_length - 1, 1)
        elif key in ("\r", "\n"):
            count = 1
        else:  # q, Ctrl-C or anything else ends the listing
            self._pending, self.state = [], "command"
            return Reply(erase + self._prompt(switch))
        chunk, self._pending = self._pending[:count], self._pending[count:]
        text = erase + _wire("\n".join(chunk) + "\n")
        if self._pending:
            return Reply(text + self.spec.more_prompt)
        self.state = "command"
        return Reply(text + self._prompt(switch))


def _wire(text: str) -> str:
    """Terminal line endings."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


_PIPE = re.compile(r"\s\|\s*")


def _split_pipe(line: str) -> tuple[str, str | None]:
    parts = _PIPE.split(line, maxsplit=1)
    return (parts[0], parts[1].strip()) if len(parts) == 2 else (line, None)


def _apply_pipe(text: str, pipe: str) -> str | None:
    """`| include X`, `| exclude X`, `| begin X` (any unique abbreviation); None if not understood."""
    verb, _, pattern = pipe.partition(" ")
    verbs = [v for v in ("begin", "exclude", "include") if v.startswith(verb.lower())] if verb else []
    if len(verbs) != 1 or not pattern.strip():
        return None
    try:
        regex = re.compile(pattern.strip())
    except re.error:
        regex = re.compile(re.escape(pattern.strip()))
    lines = text.splitlines()
    if verbs[0] == "include":
        kept = [ln for ln in lines if regex.search(ln)]
    elif verbs[0] == "exclude":
        kept = [ln for ln in lines if not regex.search(ln)]
    else:
        start = next((i for i, ln in enumerate(lines) if regex.search(ln)), len(lines))
        kept = lines[start:]
    return "\n".join(kept) + ("\n" if kept else "")
