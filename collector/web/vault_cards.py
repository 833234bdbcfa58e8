"""How a vault entry shows as a card (masked values, Show buttons): the vault page and the device page."""

from __future__ import annotations

from typing import Any

from collector.db.vault_tables import VaultEntry

FIELD_LABELS = {
    "password": "Password",
    "enable_secret": "Enable secret",
    "snmp_community": "SNMP community",
    "snmp_v3_auth_key": "SNMPv3 auth key",
    "snmp_v3_priv_key": "SNMPv3 privacy key",
}


def card(entry: VaultEntry) -> dict[str, Any]:
    return {
        "entry": entry,
        "fields": [(f, FIELD_LABELS.get(f, f)) for f in entry.secret_fields.split(",") if f],
        "drivers": ", ".join(entry.settings.get("drivers", [])),
        "vendors": ", ".join(entry.settings.get("vendors", [])),
    }
