"""The page registry and the roles: which pages the app routes and where each role lands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page of the app: its script under pages/, its title and its icon."""

    path: str
    title: str
    icon: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/portfolio.py", "Portfolio", ":material/dashboard:"),
    PageSpec("pages/initiative.py", "Initiative", ":material/fact_check:"),
    PageSpec("pages/slos.py", "SLOs", ":material/speed:"),
    PageSpec("pages/delivery.py", "Delivery and incidents", ":material/rocket_launch:"),
    PageSpec("pages/outcomes.py", "Outcomes", ":material/monitoring:"),
    PageSpec("pages/compliance.py", "Compliance", ":material/verified_user:"),
    PageSpec("pages/steering.py", "Steering review", ":material/summarize:"),
    PageSpec("pages/data_sources.py", "Data sources", ":material/database:"),
)


@dataclass(frozen=True)
class Role:
    """A reader of the app: the page it lands on and how much detail the pages show."""

    label: str
    landing: str  # a PageSpec.path
    density: str  # "summary", "standard" or "detailed"
    blurb: str


ROLES: dict[str, Role] = {
    "innovation_leader": Role(
        "Innovation leader",
        "pages/portfolio.py",
        "standard",
        "Lands on the portfolio: which pilots move toward production, and why.",
    ),
    "engineering_lead": Role(
        "Engineering lead",
        "pages/slos.py",
        "detailed",
        "Lands on SLOs; shows raw counts, n and every burn-rate window.",
    ),
    "executive": Role(
        "Executive",
        "pages/steering.py",
        "summary",
        "Lands on the steering review; fewer columns, details folded away.",
    ),
}
