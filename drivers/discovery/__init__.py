"""Discovery: which hosts exist and what they hint at (WS-Discovery, ARP / neighbour table, TCP, mDNS)."""
