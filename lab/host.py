"""Where a simulated device lives: its address, its ports, and the network namespace its sockets belong to.

One lab process serves every device. In namespace mode each device has its own namespace; a socket
belongs to the namespace it was created in, so sockets are made on one helper thread that enters
the device's namespace with setns(2), creates the socket, and returns to the lab's own namespace.
The event loop thread never changes namespace. In loopback mode every device has a 127.x.y.z address.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/var/run/netns"
T = TypeVar("T")


@dataclass(frozen=True)
class PortPlan:
    """TCP/UDP ports the devices listen on. Standard ports as root; shifted ones otherwise."""

    http: int = 80
    snmp: int = 161
    ssh: int = 22
    wsd: int = 3702  # WS-Discovery is always 3702: probes are sent there

    @classmethod
    def standard(cls) -> PortPlan:
        return cls()

    @classmethod
    def unprivileged(cls) -> PortPlan:
        return cls(http=8080, snmp=1161, ssh=2222)


_ns_lock = threading.Lock()
_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns failed: {os.strerror(err)}")


@contextmanager
def in_netns(name: str | None) -> Iterator[None]:
    """Run the body with this thread inside network namespace `name` (None: stay where we are).

    Only the calling thread moves; a lock keeps two threads from interleaving the switch.
    """
    if name is None:
        yield
        return
    with _ns_lock:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"{NETNS_DIR}/{name}", os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(own)
        finally:
            os.close(target)
            os.close(own)


def run_in_netns(name: str | None, fn: Callable[[], T]) -> T:
    """Call fn inside a namespace on a short-lived thread, so the caller's thread never moves."""
    if name is None:
        return fn()
    result: list[T] = []
    error: list[BaseException] = []

    def worker() -> None:
        try:
            with in_netns(name):
                result.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=worker, name=f"netns-{name}")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


@dataclass
class SimHost:
    """One simulated device's place on the network."""

    name: str
    ip: str
    netns: str | None = None
    ports: PortPlan = field(default_factory=PortPlan)

    def tcp_listener(self, port: int, backlog: int = 128) -> socket.socket:
        """A bound, listening, non-blocking TCP socket on this host's address."""

        def make() -> socket.socket:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.ip, port))
            sock.listen(backlog)
            sock.setblocking(False)
            return sock

        return run_in_netns(self.netns, make)

    def udp_socket(self, port: int, bind_ip: str | None = None) -> socket.socket:
        """A bound, non-blocking UDP socket (bind_ip defaults to the host's address)."""

        def make() -> socket.socket:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((bind_ip or self.ip, port))
            sock.setblocking(False)
            return sock

        return run_in_netns(self.netns, make)

    def call(self, fn: Callable[[], T]) -> T:
        """Run fn inside this host's namespace (for libraries that create their own sockets)."""
        return run_in_netns(self.netns, fn)
