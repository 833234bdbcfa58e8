"""HPE Aruba / HP ProCurve switches (ProCurve CLI over SSH; SNMP with Q-BRIDGE)."""

from drivers.vendors import Kind, VendorProfile

PROFILE = VendorProfile(
    name="Aruba",
    kinds=frozenset({Kind.SWITCH}),
    words=("aruba", "procurve", "hewlett", "hp"),
    oui_orgs=("hewlett packard", "aruba"),
    sys_object_ids=("1.3.6.1.4.1.11.2.3.7.11.", "1.3.6.1.4.1.11.", "1.3.6.1.4.1.47196."),
    sys_descr_words=("procurve", "aruba"),
    cli_dialect="cli.hp_procurve",
)
