"""Uniview (Zhejiang Uniview Technologies): cameras and NVRs; OEM-style firmware with minimal ONVIF."""

from drivers.vendors import Kind, Quirk, VendorProfile

PROFILE = VendorProfile(
    name="Uniview",
    kinds=frozenset({Kind.CAMERA, Kind.RECORDER}),
    words=("uniview", "unv"),
    oui_orgs=("uniview",),
    quirks={
        "maker-in-name-scope": Quirk(
            "a second name scope carries the maker (name/Uniview): a vendor hint before any login",
            "lab:field/cam-unv-1",
        ),
        "no-optional-network-calls": Quirk(
            "GetDNS, GetNTP, GetNetworkProtocols, GetNetworkDefaultGateway not implemented: recorded as "
            "unsupported operations, not problems",
            "onvif/uniview_ipc2124lr3-pf40m-d_lab-recorded",
        ),
    },
)
