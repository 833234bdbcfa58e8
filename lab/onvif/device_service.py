"""The ONVIF device management service (tds): identity, clock, network settings, scopes, users.

Values the device reports about itself (addresses, gateway, DNS, NTP) are in site terms, i.e. the
device's configured LAN address from the site model; XAddrs are where the simulator actually
listens, so a client can follow them. Passwords are never returned (GetUsers names and levels
only), as on real firmware.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lab.onvif import vendor
from lab.onvif.context import Ctx, Handler
from lab.onvif.soap import ACTION_NOT_SUPPORTED, SoapFault, SoapRequest, esc, xml_bool

NS_BY_SERVICE = {
    "device": "http://www.onvif.org/ver10/device/wsdl",
    "media": "http://www.onvif.org/ver10/media/wsdl",
    "recording": "http://www.onvif.org/ver10/recording/wsdl",
    "search": "http://www.onvif.org/ver10/search/wsdl",
}
VERSION_BY_SERVICE = {"device": (2, 60), "media": (2, 60), "recording": (2, 50), "search": (2, 42)}

try:
    SITE_ZONE: dt.tzinfo = ZoneInfo("Europe/Berlin")
except ZoneInfoNotFoundError:  # minimal images without tzdata: fall back to UTC local time
    SITE_ZONE = dt.UTC


def _date_time(when: dt.datetime) -> str:
    return (
        f"<tt:Time><tt:Hour>{when.hour}</tt:Hour><tt:Minute>{when.minute}</tt:Minute>"
        f"<tt:Second>{when.second}</tt:Second></tt:Time>"
        f"<tt:Date><tt:Year>{when.year}</tt:Year><tt:Month>{when.month}</tt:Month>"
        f"<tt:Day>{when.day}</tt:Day></tt:Date>"
    )


def get_system_date_and_time(ctx: Ctx, req: SoapRequest) -> str:
    utc = ctx.now.astimezone(dt.UTC)
    local = utc.astimezone(SITE_ZONE)
    dst = bool(local.dst())
    # a clock that has drifted is one nobody synchronises: such devices report Manual
    kind = "Manual" if abs(ctx.device.faults.clock_offset_s) > 1 else "NTP"
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        f"<tt:DateTimeType>{kind}</tt:DateTimeType><tt:DaylightSavings>{xml_bool(dst)}</tt:DaylightSavings>"
        f"<tt:TimeZone><tt:TZ>{esc(vendor.style(ctx.device).time_zone)}</tt:TZ></tt:TimeZone>"
        f"<tt:UTCDateTime>{_date_time(utc)}</tt:UTCDateTime>"
        f"<tt:LocalDateTime>{_date_time(local)}</tt:LocalDateTime>"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def get_device_information(ctx: Ctx, req: SoapRequest) -> str:
    d = ctx.device
    return (
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{esc(d.vendor)}</tds:Manufacturer><tds:Model>{esc(d.model)}</tds:Model>"
        f"<tds:FirmwareVersion>{esc(d.firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{esc(d.serial)}</tds:SerialNumber><tds:HardwareId>{esc(d.hardware_id)}</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def get_network_interfaces(ctx: Ctx, req: SoapRequest) -> str:
    d = ctx.device
    address = f"<tt:Address>{esc(d.ip)}</tt:Address><tt:PrefixLength>{d.prefix_length}</tt:PrefixLength>"
    config = f"<tt:FromDHCP>{address}</tt:FromDHCP>" if d.dhcp else f"<tt:Manual>{address}</tt:Manual>"
    speed = 1000 if d.role == "recorder" else 100
    return (
        '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0">'
        "<tt:Enabled>true</tt:Enabled>"
        f"<tt:Info><tt:Name>{vendor.style(d).interface_name}</tt:Name>"
        + ("" if d.faults.hide_mac else f"<tt:HwAddress>{esc(d.mac)}</tt:HwAddress>")
        + "<tt:MTU>1500</tt:MTU></tt:Info>"
        "<tt:Link><tt:AdminSettings><tt:AutoNegotiation>true</tt:AutoNegotiation>"
        f"<tt:Speed>{speed}</tt:Speed><tt:Duplex>Full</tt:Duplex></tt:AdminSettings>"
        "<tt:OperSettings><tt:AutoNegotiation>true</tt:AutoNegotiation>"
        f"<tt:Speed>{speed}</tt:Speed><tt:Duplex>Full</tt:Duplex></tt:OperSettings>"
        "<tt:InterfaceType>6</tt:InterfaceType></tt:Link>"
        f"<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config>{config}"
        f"<tt:DHCP>{xml_bool(d.dhcp)}</tt:DHCP></tt:Config></tt:IPv4>"
        "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
    )


def get_endpoint_reference(ctx: Ctx, req: SoapRequest) -> str | SoapFault:
    if not vendor.style(ctx.device).endpoint_reference:
        return ACTION_NOT_SUPPORTED
    guid = esc(ctx.device.endpoint_uuid)
    return f"<tds:GetEndpointReferenceResponse><tds:GUID>{guid}</tds:GUID></tds:GetEndpointReferenceResponse>"


def get_hostname(ctx: Ctx, req: SoapRequest) -> str:
    d = ctx.device
    return (
        "<tds:GetHostnameResponse><tds:HostnameInformation>"
        f"<tt:FromDHCP>{xml_bool(d.dhcp)}</tt:FromDHCP><tt:Name>{esc(d.name)}</tt:Name>"
        "</tds:HostnameInformation></tds:GetHostnameResponse>"
    )


def get_dns(ctx: Ctx, req: SoapRequest) -> str:
    d = ctx.device
    server = f"<tt:Type>IPv4</tt:Type><tt:IPv4Address>{vendor.gateway(d)}</tt:IPv4Address>"
    tag = "DNSFromDHCP" if d.dhcp else "DNSManual"
    return (
        "<tds:GetDNSResponse><tds:DNSInformation>"
        f"<tt:FromDHCP>{xml_bool(d.dhcp)}</tt:FromDHCP><tt:{tag}>{server}</tt:{tag}>"
        "</tds:DNSInformation></tds:GetDNSResponse>"
    )


def get_ntp(ctx: Ctx, req: SoapRequest) -> str:
    d = ctx.device
    server = f"<tt:Type>IPv4</tt:Type><tt:IPv4Address>{vendor.gateway(d)}</tt:IPv4Address>"
    tag = "NTPFromDHCP" if d.dhcp else "NTPManual"
    return (
        "<tds:GetNTPResponse><tds:NTPInformation>"
        f"<tt:FromDHCP>{xml_bool(d.dhcp)}</tt:FromDHCP><tt:{tag}>{server}</tt:{tag}>"
        "</tds:NTPInformation></tds:GetNTPResponse>"
    )


def get_network_protocols(ctx: Ctx, req: SoapRequest) -> str:
    protocols = [("HTTP", True, ctx.http_port), ("HTTPS", False, 443), ("RTSP", True, 554)]
    items = "".join(
        f"<tds:NetworkProtocols><tt:Name>{name}</tt:Name><tt:Enabled>{xml_bool(on)}</tt:Enabled>"
        f"<tt:Port>{port}</tt:Port></tds:NetworkProtocols>"
        for name, on, port in protocols
    )
    return f"<tds:GetNetworkProtocolsResponse>{items}</tds:GetNetworkProtocolsResponse>"


def get_network_default_gateway(ctx: Ctx, req: SoapRequest) -> str:
    return (
        "<tds:GetNetworkDefaultGatewayResponse><tds:NetworkGateway>"
        f"<tt:IPv4Address>{vendor.gateway(ctx.device)}</tt:IPv4Address>"
        "</tds:NetworkGateway></tds:GetNetworkDefaultGatewayResponse>"
    )


def get_scopes(ctx: Ctx, req: SoapRequest) -> str:
    # name/ and location/ are settable by the installer; the rest is fixed by the firmware.
    items = "".join(
        f"<tds:Scopes><tt:ScopeDef>{'Configurable' if '/name/' in s or '/location/' in s else 'Fixed'}"
        f"</tt:ScopeDef><tt:ScopeItem>{esc(s)}</tt:ScopeItem></tds:Scopes>"
        for s in vendor.scopes(ctx.device)
    )
    return f"<tds:GetScopesResponse>{items}</tds:GetScopesResponse>"


def get_users(ctx: Ctx, req: SoapRequest) -> str:
    d = ctx.device
    users = [(d.credential.username, "Administrator"), *d.extra_users]
    items = "".join(
        f"<tds:User><tt:Username>{esc(name)}</tt:Username><tt:UserLevel>{esc(level)}</tt:UserLevel></tds:User>"
        for name, level in users
    )
    return f"<tds:GetUsersResponse>{items}</tds:GetUsersResponse>"


def _service_capabilities(ctx: Ctx, service: str) -> str:
    if service == "device":
        return (
            '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="true" IPVersion6="false"'
            ' DynDNS="false" NTP="1" HostnameFromDHCP="true"/>'
            '<tds:Security TLS1.2="false" UsernameToken="true" HttpDigest="true"/>'
            '<tds:System DiscoveryResolve="true" DiscoveryBye="true" RemoteDiscovery="false"'
            ' SystemBackup="false" SystemLogging="true" FirmwareUpgrade="true"/></tds:Capabilities>'
        )
    if service == "media":
        return (
            '<trt:Capabilities SnapshotUri="false" Rotation="false"><trt:ProfileCapabilities'
            f' MaximumNumberOfProfiles="{max(len(ctx.device.profiles), 1)}"/>'
            '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/>'
            "</trt:Capabilities>"
        )
    if service == "recording":
        return (
            '<trc:Capabilities DynamicRecordings="false" DynamicTracks="false"'
            f' MaxRecordings="{ctx.device.channel_count}"/>'
        )
    return '<tse:Capabilities MetadataSearch="false"/>'


def get_service_capabilities(ctx: Ctx, req: SoapRequest) -> str:
    caps = _service_capabilities(ctx, "device")
    return f"<tds:GetServiceCapabilitiesResponse>{caps}</tds:GetServiceCapabilitiesResponse>"


def get_discovery_mode(ctx: Ctx, req: SoapRequest) -> str:
    """What the installer set: a device with WS-Discovery off says NonDiscoverable."""
    mode = "NonDiscoverable" if ctx.device.faults.wsd_disabled else "Discoverable"
    body = f"<tds:DiscoveryMode>{mode}</tds:DiscoveryMode>"
    return f"<tds:GetDiscoveryModeResponse>{body}</tds:GetDiscoveryModeResponse>"


def get_services(ctx: Ctx, req: SoapRequest) -> str:
    with_caps = (req.text("IncludeCapability") or "").lower() in ("true", "1")
    items = []
    for service in ctx.services():
        major, minor = VERSION_BY_SERVICE[service]
        # the service's own capabilities element, inside the tds:Capabilities placeholder
        caps = (
            f"<tds:Capabilities>{_service_capabilities(ctx, service)}</tds:Capabilities>" if with_caps else ""
        )
        items.append(
            f"<tds:Service><tds:Namespace>{NS_BY_SERVICE[service]}</tds:Namespace>"
            f"<tds:XAddr>{esc(ctx.xaddr(service))}</tds:XAddr>{caps}"
            f"<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor></tds:Version>"
            "</tds:Service>"
        )
    return f"<tds:GetServicesResponse>{''.join(items)}</tds:GetServicesResponse>"


def get_capabilities(ctx: Ctx, req: SoapRequest) -> str:
    device = (
        f"<tt:Device><tt:XAddr>{esc(ctx.xaddr('device'))}</tt:XAddr>"
        "<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>true</tt:ZeroConfiguration>"
        "<tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>"
        "<tt:System><tt:DiscoveryResolve>true</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye>"
        "<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>"
        "<tt:SystemLogging>true</tt:SystemLogging><tt:FirmwareUpgrade>true</tt:FirmwareUpgrade>"
        "<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions>"
        "</tt:System></tt:Device>"
    )
    media = (
        f"<tt:Media><tt:XAddr>{esc(ctx.xaddr('media'))}</tt:XAddr><tt:StreamingCapabilities>"
        "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
        "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
    )
    extension = ""
    if ctx.device.role == "recorder":
        extension = (
            f"<tt:Extension><tt:Recording><tt:XAddr>{esc(ctx.xaddr('recording'))}</tt:XAddr>"
            "<tt:ReceiverSource>false</tt:ReceiverSource><tt:MediaProfileSource>true</tt:MediaProfileSource>"
            "<tt:DynamicRecordings>false</tt:DynamicRecordings><tt:DynamicTracks>false</tt:DynamicTracks>"
            "<tt:MaxStringLength>64</tt:MaxStringLength></tt:Recording>"
            f"<tt:Search><tt:XAddr>{esc(ctx.xaddr('search'))}</tt:XAddr>"
            "<tt:MetadataSearch>false</tt:MetadataSearch></tt:Search></tt:Extension>"
        )
    return (
        f"<tds:GetCapabilitiesResponse><tds:Capabilities>{device}{media}{extension}"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


OPERATIONS: dict[str, Handler] = {
    "GetSystemDateAndTime": get_system_date_and_time,
    "GetDeviceInformation": get_device_information,
    "GetNetworkInterfaces": get_network_interfaces,
    "GetHostname": get_hostname,
    "GetDNS": get_dns,
    "GetNTP": get_ntp,
    "GetNetworkProtocols": get_network_protocols,
    "GetNetworkDefaultGateway": get_network_default_gateway,
    "GetScopes": get_scopes,
    "GetUsers": get_users,
    "GetServices": get_services,
    "GetServiceCapabilities": get_service_capabilities,
    "GetDiscoveryMode": get_discovery_mode,
    "GetCapabilities": get_capabilities,
    "GetEndpointReference": get_endpoint_reference,
}
