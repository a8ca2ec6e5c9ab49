"""Who may see and decide what: identities from ID-token claims, roles and scopes.

config/access.yaml maps e-mail or group claims to roles over all initiatives or a list
(docs/governance.md, "Roles and scopes"). `restrict` cuts a configuration down to what one
identity may see; `compute_visible` computes the report from it and also drops the other
initiatives from what is shared between initiatives (the sources' `serves`, raw deployments
and incidents), so every report, page and download shows only what the identity may see.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Literal

import polars as pl

from core.models import Access, AccessRule, Config
from metrics.portfolio import Portfolio, compute_portfolio
from metrics.slo import earliest_start
from metrics.timewin import as_of_instant
from pilotwatch.engine import stored_pre
from pilotwatch.report import Report, build_report
from pilotwatch.sources import LoadedData

Role = Literal["viewer", "approver", "admin"]
IDENTITY_ENV = "PILOTWATCH_IDENTITY"
LOCAL_DEMO_SUBJECT = "local-demo"
# viewer < approver < admin: the order a role comparison uses
RANK: dict[str, int] = {"viewer": 1, "approver": 2, "admin": 3}
DECIDING: frozenset[str] = frozenset({"approver", "admin"})

# One grant: a role over a set of initiative ids (None = every initiative).
Grant = tuple[Role, frozenset[str] | None]


def highest(roles: Iterable[Role]) -> Role | None:
    """The highest of `roles` (viewer < approver < admin); None when there is none."""
    best: Role | None = None
    for role in roles:
        if best is None or RANK[role] > RANK[best]:
            best = role
    return best


def _covers(scope: frozenset[str] | None, initiative_id: str) -> bool:
    return scope is None or initiative_id in scope


@dataclass(frozen=True)
class Identity:
    """A signed-in (or configured) identity with its highest role and its visible scope.

    `role` is the highest role over all matching rules, `initiatives` the union of their scopes
    (None = every initiative). `grants` keeps each matching rule's (role, scope), so an approver
    of A who is also a viewer of B sees A and B but decides only on A. When `grants` is empty the
    identity was built by hand: it holds `role` over `initiatives`.
    """

    subject: str
    email: str | None
    name: str | None
    groups: tuple[str, ...]
    role: Role | None
    initiatives: frozenset[str] | None
    authenticated: bool
    grants: tuple[Grant, ...] = ()

    def _grants(self) -> tuple[Grant, ...]:
        if self.grants:
            return self.grants
        if self.role is None:
            return ()
        return ((self.role, self.initiatives),)

    def may_see(self, initiative_id: str) -> bool:
        """True when any role of this identity covers the initiative."""
        return self.role is not None and _covers(self.initiatives, initiative_id)

    def may_decide(self, initiative_id: str) -> bool:
        """True when an approver or admin grant of this identity covers the initiative."""
        return any(role in DECIDING and _covers(s, initiative_id) for role, s in self._grants())

    def role_for(self, initiative_id: str) -> Role | None:
        """The highest role this identity holds on one initiative (None: not visible)."""
        return highest(role for role, scope in self._grants() if _covers(scope, initiative_id))

    @property
    def is_admin(self) -> bool:
        """True for an admin over every initiative (audit export, config changes)."""
        return any(role == "admin" and scope is None for role, scope in self._grants())

    @property
    def label(self) -> str:
        """The e-mail, else the subject: how the identity is shown and signed."""
        return self.email or self.subject

    @property
    def scope_label(self) -> str:
        """The visible scope in words, for banners and audit entries."""
        if self.role is None:
            return "nothing"
        if self.initiatives is None:
            return "all initiatives"
        return ", ".join(sorted(self.initiatives)) or "nothing"

    @property
    def scope_key(self) -> str:
        """A stable key of what this identity may see (cache keys include it)."""
        if self.role is None:
            return "none"
        if self.initiatives is None:
            return "*"
        return "|".join(sorted(self.initiatives))

    def summary(self) -> dict[str, Any]:
        """The claims summary an audit entry records (no token, no secret)."""
        return {
            "subject": self.subject,
            "email": self.email,
            "groups": list(self.groups),
            "role": self.role,
            "scope": None if self.initiatives is None else sorted(self.initiatives),
            "authenticated": self.authenticated,
        }


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def claim_groups(claims: Mapping[str, Any], claim: str) -> tuple[str, ...]:
    """The identity's groups from `claim`: a list of strings, or one string."""
    value = claims.get(claim)
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str | int) and str(v))
    return ()


def _matches(rule: AccessRule, email: str | None, groups: Iterable[str]) -> bool:
    if email is not None and email.lower() in {e.strip().lower() for e in rule.emails}:
        return True
    return bool(set(groups) & set(rule.groups))


def _union(scopes: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    union: set[str] = set()
    for scope in scopes:
        if scope is None:
            return None
        union |= scope
    return frozenset(union)


def resolve(access: Access, claims: Mapping[str, Any]) -> Identity:
    """The identity of an ID token's claims under config/access.yaml.

    Every rule matching the e-mail (case-insensitive, exact) or a group applies: the role is the
    highest of their roles, the visible scope the union of their initiatives, and each rule's
    (role, scope) is kept so decide rights stay per initiative. An e-mail the provider marks
    unverified (`email_verified: false`) never matches. No matching rule: no role, sees nothing.
    """
    email = _text(claims.get("email"))
    usable_email = None if claims.get("email_verified") is False else email
    groups = claim_groups(claims, access.groups_claim)
    subject = _text(claims.get("sub")) or email or "unknown"
    grants: list[Grant] = []
    for rule in access.rules:
        if _matches(rule, usable_email, groups):
            scope = None if rule.initiatives == "*" else frozenset(rule.initiatives)
            grants.append((rule.role, scope))
    role = highest(g[0] for g in grants)
    return Identity(
        subject=subject,
        email=email,
        name=_text(claims.get("name")),
        groups=groups,
        role=role,
        initiatives=_union(g[1] for g in grants) if grants else frozenset(),
        authenticated=True,
        grants=tuple(grants),
    )


def local_demo_identity() -> Identity:
    """The identity of an app or CLI without sign-in: admin over everything, not authenticated."""
    return Identity(
        subject=LOCAL_DEMO_SUBJECT,
        email=None,
        name="Local demo",
        groups=(),
        role="admin",
        initiatives=None,
        authenticated=False,
    )


def service_identity(config: Config) -> Identity:
    """The CLI's identity: $PILOTWATCH_IDENTITY, else access.service_identity, under the rules.

    With no rules configured the CLI runs as the local demo identity. With rules but no service
    identity it has no role and sees nothing: access.yaml is never bypassed by omission.
    """
    access = config.access
    if not access.rules:
        return local_demo_identity()
    name = _text(os.environ.get(IDENTITY_ENV)) or _text(access.service_identity)
    if name is None:
        return Identity("unconfigured", None, None, (), None, frozenset(), False)
    claims: dict[str, Any] = {"sub": name}
    if "@" in name:
        claims["email"] = name
    # the service identity is configured, not vouched for by an identity provider
    resolved = resolve(access, claims)
    return Identity(
        subject=resolved.subject,
        email=resolved.email,
        name=resolved.name,
        groups=(),
        role=resolved.role,
        initiatives=resolved.initiatives,
        authenticated=False,
        grants=resolved.grants,
    )


def restrict(config: Config, identity: Identity) -> Config:
    """The configuration with only the initiatives `identity` may see, their SLOs and waivers.

    Sources, controls, gates and settings stay: a report computed from the result names no other
    initiative in any section or portfolio aggregate (docs/governance.md, "Roles and scopes").
    """
    if identity.role is not None and identity.initiatives is None:
        return config
    initiatives = [i for i in config.initiatives if identity.may_see(i.id)]
    keep = {i.id for i in initiatives}
    return config.model_copy(
        update={
            "initiatives": initiatives,
            "slos": [s for s in config.slos if s.initiative in keep],
            "waivers": [w for w in config.waivers if w.initiative in keep],
        }
    )


def visible_ids(identity: Identity) -> frozenset[str] | None:
    """The initiative ids `identity` may see; None when it sees every initiative."""
    if identity.role is None:
        return frozenset()
    return identity.initiatives


def _only(ids: frozenset[str], column: str) -> pl.Expr:
    """A list column with only the visible ids, in their order."""
    return pl.col(column).list.eval(pl.element().filter(pl.element().is_in(list(ids))))


def restrict_portfolio(portfolio: Portfolio, identity: Identity) -> Portfolio:
    """The portfolio without rows of initiatives `identity` may not see.

    Per-initiative frames lose the other initiatives' rows; a source keeps only the visible
    initiatives it serves and disappears when it serves none of them. The visible initiatives'
    numbers do not change: they were computed over the whole data.
    """
    ids = visible_ids(identity)
    if ids is None:
        return portfolio
    changes: dict[str, Any] = {}
    for item in fields(portfolio):
        value = getattr(portfolio, item.name)
        if isinstance(value, pl.DataFrame) and "initiative" in value.columns:
            changes[item.name] = value.filter(pl.col("initiative").is_in(list(ids)))
    changes["freshness"] = portfolio.freshness.with_columns(
        _only(ids, "serves"), _only(ids, "initiatives")
    ).filter(pl.col("serves").list.len() > 0)
    return replace(portfolio, **changes)


def compute_visible(
    config: Config, data: LoadedData, as_of: datetime, identity: Identity
) -> tuple[Portfolio, Report]:
    """`engine.compute` for one identity: only its initiatives, in every section and aggregate."""
    restricted = restrict(config, identity)
    instant = as_of_instant(as_of)
    # the store's pre-aggregate, when the data was loaded with one: no raw rescan per compute
    pre = stored_pre(restricted, data, earliest_start(restricted.slos, instant), instant)
    portfolio = compute_portfolio(data.tables, restricted, instant, data.newest, pre=pre)
    portfolio = restrict_portfolio(portfolio, identity)
    return portfolio, build_report(portfolio)


def restrict_data(config: Config, data: LoadedData, identity: Identity) -> LoadedData:
    """The loaded data as `identity` may browse it (the Data sources page, raw tables).

    Tables lose the other initiatives' rows (SLI buckets: the other initiatives' SLOs). A source
    whose `initiatives` list names none of the visible ones is left out of the health list, and
    quarantined rows are kept only from sources that list visible initiatives alone: a
    quarantined row of a shared source may belong to any initiative.
    """
    ids = visible_ids(identity)
    if ids is None:
        return data
    slos = [s.name for s in config.slos if s.initiative in ids]
    tables: dict[str, pl.LazyFrame] = {}
    for name, frame in data.tables.items():
        columns = frame.collect_schema().names()
        if "initiative" in columns:
            frame = frame.filter(pl.col("initiative").is_in(list(ids)))
        elif name == "sli_buckets" and "slo" in columns:
            frame = frame.filter(pl.col("slo").is_in(slos))
        tables[name] = frame
    listed = {s.name: set(s.initiatives) for s in config.sources}
    hidden = {name for name, served in listed.items() if served and not served & ids}
    own = {name for name, served in listed.items() if served and served <= ids}
    return LoadedData(
        tables=tables,
        health=[h for h in data.health if h.source not in hidden],
        quarantine=data.quarantine.filter(pl.col("source").is_in(list(own))),
        newest=data.newest.filter(pl.col("initiative").is_in(list(ids))),
    )
