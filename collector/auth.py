"""Who may do what: the one place that decides, for a single resource and, in SQL, for a list.

An ``Identity`` is a signed-in user (a role and a scope), an agent (push to its one site), or the
break-glass admin token (an admin with scope "all", for bootstrap and scripts). ``permits`` answers
for one resource; ``scope_clause`` is the same rule as a SQL condition, so lists are filtered by
scope in the query, before pagination. Both read the same two tables below: ``ROLE_ACTIONS``
(what a role may ever do) and the identity's ``Scope`` (which customers it sees).

The order matters and is the same everywhere: first the role (403 before anything is looked up,
so a refusal says nothing about what exists), then the scope, applied to the lookup itself, so a
resource out of scope is "not found" exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, true
from sqlmodel import col

from collector.db.models import Customer
from collector.errors import forbidden


class Role(StrEnum):
    ADMIN = "admin"
    TECHNICIAN = "technician"
    SUPPORT = "support"
    CUSTOMER = "customer"


class Action(StrEnum):
    PUBLIC = "public"  # declared on purpose: sign-in form, enrolment, the OpenAPI document
    PUSH_SNAPSHOT = "snapshot:push"
    READ_SITE = "site:read"
    EXPORT_SITE = "site:export"
    APPROVE_BASELINE = "baseline:approve"
    MANAGE_AGENTS = "agent:manage"
    READ_CUSTOMERS = "customer:read"
    MANAGE_PEOPLE = "people:manage"  # users, regions, customers, role policies, password resets
    MANAGE_DEVICES = "device:manage"
    READ_AUDIT = "audit:read"
    OWN_ACCOUNT = "account:own"  # one's own password, second factor, API tokens
    READ_VAULT = "vault:read"  # the entries of a site, values masked
    REVEAL_SECRET = "vault:reveal"  # one value in clear, audited
    EDIT_VAULT = "vault:edit"  # add, change, import entries
    READ_VAULT_HISTORY = "vault:history"  # earlier values (for recovery)
    FETCH_CREDENTIALS = "vault:fetch"  # an agent takes its own site's credential sets for a scan
    EDIT_RECORD = "record:edit"  # the site record: photos and files, floor plans and pins, the quote
    ADD_VISIT = "visit:add"  # the service-visit log (support may note a visit too)
    SUBSCRIBE_ALERTS = "alerts:subscribe"  # one's own e-mail alerts, for sites in one's scope
    MANAGE_ALERTS = "alerts:manage"  # webhook endpoints, expected scan intervals, the delivery log
    SHARE_SITE = "site:share"  # a one-time download link for someone without an account
    MANAGE_SETTINGS = "settings:manage"  # the integrator's branding on documents and pages (admins)


class IdentityKind(StrEnum):
    USER = "user"
    AGENT = "agent"
    ADMIN_TOKEN = "admin-token"
    CLI = "cli"  # the admin command line on the collector's host
    ANONYMOUS = "anonymous"  # not signed in (yet): may only do PUBLIC things
    SHARE_LINK = "share-link"  # someone who opened a share link: one site's deliverables, as its customer


_EVERY_USER = frozenset(
    {Action.READ_SITE, Action.EXPORT_SITE, Action.READ_CUSTOMERS, Action.OWN_ACCOUNT, Action.SUBSCRIBE_ALERTS}
)
_VAULT_STAFF = frozenset({Action.READ_VAULT, Action.REVEAL_SECRET})
AGENT_ACTIONS = frozenset({Action.PUSH_SNAPSHOT, Action.FETCH_CREDENTIALS})  # its own site only
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action) - AGENT_ACTIONS,
    Role.TECHNICIAN: _EVERY_USER
    | _VAULT_STAFF
    | {
        Action.APPROVE_BASELINE,
        Action.MANAGE_AGENTS,
        Action.EDIT_VAULT,
        Action.EDIT_RECORD,
        Action.ADD_VISIT,
    },
    Role.SUPPORT: _EVERY_USER | _VAULT_STAFF | {Action.ADD_VISIT},
    Role.CUSTOMER: _EVERY_USER,
}
CUSTOMER_ADMIN_ACTIONS = frozenset({Action.READ_AUDIT})  # a customer's own admin reads its audit
# ... and, when an admin granted it (the handover of passwords to the owner), its own devices' passwords.
CUSTOMER_VAULT_ACTIONS = _VAULT_STAFF


class ScopeKind(StrEnum):
    ALL = "all"
    REGIONS = "regions"
    CUSTOMERS = "customers"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    ids: frozenset[int] = frozenset()

    @classmethod
    def everything(cls) -> Scope:
        return cls(ScopeKind.ALL)


@dataclass(frozen=True)
class Identity:
    kind: IdentityKind
    name: str
    role: Role | None = None
    scope: Scope = field(default_factory=lambda: Scope(ScopeKind.CUSTOMERS))  # default: sees nothing
    user_id: int | None = None
    customer_id: int | None = None  # a customer user's own customer
    customer_admin: bool = False
    vault_granted: bool = False  # a customer's admin an admin allowed to see its own passwords
    agent_id: int | None = None
    site_id: int | None = None  # the one site an agent may push to

    @property
    def actions(self) -> frozenset[Action]:
        if self.kind is IdentityKind.AGENT or self.role is None:
            return AGENT_ACTIONS | {Action.PUBLIC} if self.kind is IdentityKind.AGENT else frozenset()
        extra: frozenset[Action] = frozenset()
        if self.role is Role.CUSTOMER and self.customer_admin:
            extra = CUSTOMER_ADMIN_ACTIONS | (CUSTOMER_VAULT_ACTIONS if self.vault_granted else frozenset())
        return ROLE_ACTIONS[self.role] | extra | {Action.PUBLIC}


BREAK_GLASS = Identity(IdentityKind.ADMIN_TOKEN, "admin-token", Role.ADMIN, Scope.everything())
ANONYMOUS = Identity(IdentityKind.ANONYMOUS, "anonymous")


def share_link_identity(link_id: int, customer_id: int) -> Identity:
    """Whoever holds a share link and its password: that customer's exports, never its passwords."""
    return Identity(
        IdentityKind.SHARE_LINK,
        f"share-link:{link_id}",
        Role.CUSTOMER,
        Scope(ScopeKind.CUSTOMERS, frozenset({customer_id})),
        customer_id=customer_id,
    )


def cli_admin(operator: str) -> Identity:
    """Whoever runs ``asbuilt collector …`` on the host can read the database anyway: an admin."""
    return Identity(IdentityKind.CLI, f"cli:{operator}", Role.ADMIN, Scope.everything())


@dataclass(frozen=True)
class Resource:
    """Where a thing lives: enough to decide scope without loading anything else."""

    customer_id: int | None = None
    region_id: int | None = None
    site_id: int | None = None


def permits(identity: Identity, action: Action, resource: Resource | None = None) -> bool:
    """May ``identity`` do ``action`` (to ``resource``, when given)? The one decision."""
    if action is Action.PUBLIC:
        return True
    if identity.kind is IdentityKind.AGENT:
        if action not in AGENT_ACTIONS:
            return False
        return resource is None or (resource.site_id is not None and resource.site_id == identity.site_id)
    if action not in identity.actions:
        return False
    return resource is None or in_scope(identity.scope, resource)


def in_scope(scope: Scope, resource: Resource) -> bool:
    if scope.kind is ScopeKind.ALL:
        return True
    if scope.kind is ScopeKind.REGIONS:
        return resource.region_id is not None and resource.region_id in scope.ids
    return resource.customer_id is not None and resource.customer_id in scope.ids


def scope_clause(identity: Identity, customer_id: Any = None, region_id: Any = None) -> ColumnElement[bool]:
    """``in_scope`` as a SQL condition over a customer id and region id column (default: Customer's)."""
    customer_column = col(Customer.id) if customer_id is None else customer_id
    region_column = col(Customer.region_id) if region_id is None else region_id
    scope = identity.scope
    if identity.kind is IdentityKind.AGENT:
        return false()
    if scope.kind is ScopeKind.ALL:
        return true()
    if not scope.ids:
        return false()
    if scope.kind is ScopeKind.REGIONS:
        return region_column.in_(sorted(scope.ids))
    return customer_column.in_(sorted(scope.ids))


def ensure(identity: Identity, action: Action, resource: Resource | None = None) -> None:
    """403 unless the role may do ``action`` at all (scope is applied to lookups, as 404)."""
    if not permits(identity, action, resource):
        raise forbidden(f"{identity.kind.value} {identity.name!r} may not {action.value}")
