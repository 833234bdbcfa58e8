"""SOAP 1.2 plumbing for the simulated devices: safe parsing of requests, envelopes and faults.

Requests are hostile input: they are size-bounded by the server and parsed here without DTDs,
entity expansion or network access. Replies are built as text from small templates; every value
that comes from the site model passes through `esc`.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "trc": "http://www.onvif.org/ver10/recording/wsdl",
    "tse": "http://www.onvif.org/ver10/search/wsdl",
    "ter": "http://www.onvif.org/ver10/error",
}

_ENVELOPE_NS = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items() if p not in ("wsse", "wsu"))

# No DTD, no entities, no network, no huge trees: a hostile request can cost us nothing.
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


class BadXml(ValueError):
    """The request is not a well-formed, DTD-free SOAP envelope."""


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML; DTDs (and so entity declarations) are refused outright."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise BadXml("DTDs are not accepted")
    try:
        root = etree.fromstring(data, SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise BadXml(str(exc)) from exc
    if root is None:
        raise BadXml("empty document")
    return root


@dataclass(frozen=True)
class UsernameToken:
    username: str
    password: str
    digest: bool
    nonce: str
    created: str


@dataclass(frozen=True)
class SoapRequest:
    operation: str  # local name of the body's first element, e.g. "GetDeviceInformation"
    namespace: str
    body: etree._Element
    token: UsernameToken | None

    def text(self, local_name: str) -> str | None:
        """Text of the first descendant of the operation element with this local name."""
        for el in self.body.iter():
            if isinstance(el.tag, str) and etree.QName(el).localname == local_name:
                return (el.text or "").strip()
        return None


def parse_request(data: bytes) -> SoapRequest:
    root = parse_xml(data)
    if root.tag != f"{{{NS['s']}}}Envelope":
        raise BadXml("not a SOAP 1.2 envelope")
    body = root.find("s:Body", NS)
    if body is None or len(body) == 0:
        raise BadXml("empty SOAP body")
    op = body[0]
    if not isinstance(op.tag, str):
        raise BadXml("no operation element")
    qname = etree.QName(op)
    return SoapRequest(qname.localname, qname.namespace or "", op, _username_token(root))


def _username_token(root: etree._Element) -> UsernameToken | None:
    token = root.find("s:Header/wsse:Security/wsse:UsernameToken", NS)
    if token is None:
        return None
    password = token.find("wsse:Password", NS)
    ptype = password.get("Type", "") if password is not None else ""
    return UsernameToken(
        username=(token.findtext("wsse:Username", "", NS) or "").strip(),
        password=(password.text or "").strip() if password is not None else "",
        digest=ptype.endswith("#PasswordDigest"),
        nonce=(token.findtext("wsse:Nonce", "", NS) or "").strip(),
        created=(token.findtext("wsu:Created", "", NS) or "").strip(),
    )


def esc(value: object) -> str:
    """Escape a value for element text or a double-quoted attribute."""
    return escape(str(value), {'"': "&quot;"})


def xml_bool(value: bool) -> str:
    return "true" if value else "false"


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<s:Envelope {_ENVELOPE_NS}><s:Header/><s:Body>{body}</s:Body></s:Envelope>"
    )


@dataclass(frozen=True)
class SoapFault:
    """A fault as ONVIF devices send it: a SOAP code, an ONVIF subcode, a reason and an HTTP status."""

    code: str  # "s:Sender" or "s:Receiver"
    subcode: str  # e.g. "ter:NotAuthorized"
    reason: str
    status: int
    detail_code: str = ""  # a second-level subcode, e.g. ter:NoProfile under ter:InvalidArgVal

    def xml(self) -> str:
        inner = f"<s:Subcode><s:Value>{self.detail_code}</s:Value></s:Subcode>" if self.detail_code else ""
        return envelope(
            "<s:Fault><s:Code>"
            f"<s:Value>{self.code}</s:Value><s:Subcode><s:Value>{self.subcode}</s:Value>{inner}</s:Subcode>"
            f'</s:Code><s:Reason><s:Text xml:lang="en">{esc(self.reason)}</s:Text></s:Reason>'
            "</s:Fault>"
        )


def not_authorized(status: int) -> SoapFault:
    return SoapFault("s:Sender", "ter:NotAuthorized", "Sender not authorized", status)


ACTION_NOT_SUPPORTED = SoapFault(
    "s:Receiver", "ter:ActionNotSupported", "Optional Action Not Implemented", 500
)
WELL_FORMED = SoapFault("s:Sender", "ter:WellFormed", "Well-formed Error", 400)
NO_PROFILE = SoapFault("s:Sender", "ter:InvalidArgVal", "No such profile", 400, "ter:NoProfile")
NO_CONFIG = SoapFault("s:Sender", "ter:InvalidArgVal", "No such configuration", 400, "ter:NoConfig")
