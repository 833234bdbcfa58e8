"""Axis Communications: cameras and encoders (ONVIF, mDNS `_axis-video._tcp` with the MAC in TXT)."""

from drivers.vendors import Kind, Quirk, VendorProfile

PROFILE = VendorProfile(
    name="AXIS",
    kinds=frozenset({Kind.CAMERA}),
    words=("axis",),
    oui_orgs=("axis communications",),
    server_headers=("axis",),
    mdns_types=("_axis-video._tcp",),
    quirks={
        "auth-everything": Quirk(
            "every ONVIF call but GetSystemDateAndTime needs a token (no pre-auth GetServices)",
            "onvif/axis_p3245-lve_10.12.182",
        ),
    },
)
