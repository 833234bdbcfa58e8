"""Device credentials fetched from the collector's vault at scan time, held in memory only.

A technician's laptop or a site box then needs no credential file: the agent asks the collector
(with its own agent token, which only ever reaches its own site) for the site's credential sets,
scans with them, and forgets them when the scan ends. Nothing here writes to disk or logs a value;
the reply is size-bounded while it is read and parsed by the same code as the credential file.
"""

from __future__ import annotations

import json

import aiohttp

from agent.credentials import BoundCredential, CredentialFileError, parse_credentials
from drivers.bounded import TooLarge, read_bounded

CREDENTIALS_PATH = "/api/v1/agent/credentials"
MAX_REPLY_BYTES = 1_000_000  # thousands of credential sets; a site has a handful


class VaultFeedError(Exception):
    """The collector did not give the credentials; the message is for a person, with no secret in it."""


async def fetch_site_credentials(
    collector_url: str, token: str, *, timeout_s: float = 20.0
) -> list[BoundCredential]:
    url = collector_url.rstrip("/") + CREDENTIALS_PATH
    timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(10.0, timeout_s))
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp,
        ):
            body = await read_bounded(
                resp.content.iter_chunked(65536),
                encoding=None,
                raw_limit=MAX_REPLY_BYTES,
                limit=MAX_REPLY_BYTES,
                what="credential reply",
            )
            status = resp.status
    except TooLarge:
        raise VaultFeedError(
            f"the collector's credential reply is larger than {MAX_REPLY_BYTES} bytes"
        ) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise VaultFeedError(
            f"the collector at {collector_url} could not be reached ({type(exc).__name__})"
        ) from None
    if status == 401:
        raise VaultFeedError("the collector refused the agent token (unknown or revoked): enrol again")
    if status in (403, 404):
        raise VaultFeedError("the collector keeps no credentials for this agent's site")
    if status != 200:
        raise VaultFeedError(f"the collector answered {status} when asked for the site's credentials")
    try:
        data = json.loads(body)
        return parse_credentials(data.get("credentials", []), origin="the collector's vault")
    except (ValueError, AttributeError):
        raise VaultFeedError("the collector's credential reply is not the expected JSON") from None
    except CredentialFileError as exc:
        raise VaultFeedError(str(exc)) from None
