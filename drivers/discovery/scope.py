"""Address ranges to sweep: parsed, size-checked and walked lazily (a /16 is never a list in memory)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

MAX_SWEEP_ADDRESSES = 65536  # a /16; larger scopes are refused rather than swept for hours


class ScopeTooLarge(ValueError):
    pass


def sweep_network(cidr: str, max_addresses: int = MAX_SWEEP_ADDRESSES) -> ipaddress.IPv4Network:
    """Parse an IPv4 scope and refuse it when it holds more than `max_addresses` addresses.

    Example:: sweep_network("10.0.0.0/8") raises ScopeTooLarge naming the limit.
    """
    network = ipaddress.ip_network(cidr, strict=False)
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError(f"{cidr}: only IPv4 scopes can be swept (IPv6 subnets are too large to walk)")
    if network.num_addresses > max_addresses:
        raise ScopeTooLarge(
            f"{cidr} holds {network.num_addresses} addresses; the sweep limit is {max_addresses} "
            f"(a /{32 - (max_addresses.bit_length() - 1)}): split the scope or raise the limit"
        )
    return network


def hosts(network: ipaddress.IPv4Network) -> Iterator[str]:
    """Host addresses of a network, lazily (a /32 or /31 yields its own addresses)."""
    if network.prefixlen >= 31:
        yield from (str(a) for a in network)
    else:
        yield from (str(a) for a in network.hosts())


def chunks(network: ipaddress.IPv4Network, prefix: int = 22) -> Iterator[ipaddress.IPv4Network]:
    """The network cut into blocks of at most /prefix, for sweeps that work block by block."""
    if network.prefixlen >= prefix:
        yield network
    else:
        yield from network.subnets(new_prefix=prefix)
