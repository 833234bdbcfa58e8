"""One alert e-mail, sent through the configured SMTP relay with STARTTLS (aiosmtplib).

The relay's certificate is verified (the system's CAs, or ``smtp_ca_file``); a relay that does not
offer STARTTLS is refused rather than sent to in clear, unless ``smtp_starttls`` is off on purpose.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from collector.alerts.digest import Digest
from collector.config import CollectorConfig


class MailNotConfigured(RuntimeError):
    """No smtp_host: e-mail alerts cannot be sent (the delivery is logged as failed)."""


def message(config: CollectorConfig, to: str, digest: Digest, delivery_id: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.smtp_sender
    msg["To"] = to
    msg["Subject"] = digest.subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(idstring=f"asbuilt-alert-{delivery_id}")
    msg["X-Asbuilt-Event"] = digest.kind
    msg.set_content(digest.text)
    return msg


def tls_context(config: CollectorConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(config.smtp_ca_file) if config.smtp_ca_file else None)


async def send(config: CollectorConfig, to: str, digest: Digest, delivery_id: int) -> None:
    if not config.smtp_host:
        raise MailNotConfigured("no SMTP relay configured (ASBUILT_SMTP_HOST)")
    password = config.smtp_password.get_secret_value() if config.smtp_password else None
    await aiosmtplib.send(
        message(config, to, digest, delivery_id),
        hostname=config.smtp_host,
        port=config.smtp_port,
        start_tls=config.smtp_starttls,
        tls_context=tls_context(config) if config.smtp_starttls else None,
        username=config.smtp_username,
        password=password,
        timeout=config.smtp_timeout_s,
    )
