"""SNMP side of the simulated PoE switches: the served tables (mib) and the UDP agent (agent)."""
