"""Hanwha Vision (formerly Samsung Techwin / Hanwha Techwin): cameras (ONVIF)."""

from drivers.vendors import Kind, VendorProfile

PROFILE = VendorProfile(
    name="Hanwha Vision",
    kinds=frozenset({Kind.CAMERA, Kind.RECORDER}),
    words=("hanwha", "wisenet", "samsung techwin"),
    oui_orgs=("hanwha", "samsung techwin"),
    server_headers=("wisenet",),
)
