"""Identities, roles and scopes (pilotwatch/access.py, docs/governance.md "Roles and scopes").

Every expected role and scope is worked out by hand from the rules written in each test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.models import Access, AccessRule
from pilotwatch import engine
from pilotwatch.access import (
    IDENTITY_ENV,
    Identity,
    compute_visible,
    local_demo_identity,
    resolve,
    restrict,
    restrict_data,
    service_identity,
)
from pilotwatch.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


def _access(*rules: dict[str, Any], groups_claim: str = "groups") -> Access:
    return Access(groups_claim=groups_claim, rules=[AccessRule(**r) for r in rules])


def test_email_matches_case_insensitively_and_exactly() -> None:
    access = _access({"role": "viewer", "emails": ["Ann.Lee@Example.org"], "initiatives": ["a"]})
    ann = resolve(access, {"sub": "u1", "email": "ann.lee@EXAMPLE.org"})
    assert (ann.role, ann.initiatives, ann.authenticated) == ("viewer", frozenset({"a"}), True)
    # exact: a longer address that merely contains the configured one does not match
    other = resolve(access, {"sub": "u2", "email": "xann.lee@example.org"})
    assert other.role is None and not other.may_see("a")


def test_unverified_email_never_matches() -> None:
    access = _access({"role": "admin", "emails": ["boss@example.org"]})
    assert resolve(access, {"email": "boss@example.org", "email_verified": False}).role is None
    assert resolve(access, {"email": "boss@example.org", "email_verified": True}).role == "admin"


def test_group_claim_as_list_and_as_string() -> None:
    access = _access(
        {"role": "approver", "groups": ["steering"], "initiatives": ["a"]}, groups_claim="roles"
    )
    as_list = resolve(access, {"sub": "u", "roles": ["staff", "steering"]})
    as_text = resolve(access, {"sub": "u", "roles": "steering"})
    assert as_list.groups == ("staff", "steering") and as_list.role == "approver"
    assert as_text.groups == ("steering",) and as_text.role == "approver"
    # the claim is read from groups_claim only: "groups" holds the right value but is ignored
    assert resolve(access, {"sub": "u", "groups": ["steering"]}).role is None


def test_highest_role_union_of_scopes_and_decide_rights_per_initiative() -> None:
    access = _access(
        {"role": "approver", "emails": ["ann@example.org"], "initiatives": ["a"]},
        {"role": "viewer", "groups": ["care"], "initiatives": ["b", "c"]},
        {"role": "viewer", "groups": ["other"], "initiatives": ["d"]},  # does not match
    )
    ann = resolve(access, {"sub": "u", "email": "ann@example.org", "groups": ["care"]})
    # highest of {approver, viewer} = approver; scope {a} | {b, c} = {a, b, c}
    assert ann.role == "approver"
    assert ann.initiatives == frozenset({"a", "b", "c"})
    assert [ann.may_see(i) for i in "abcd"] == [True, True, True, False]
    # only the approver rule covers a: she decides on a, merely views b and c
    assert [ann.may_decide(i) for i in "abcd"] == [True, False, False, False]
    assert [ann.role_for(i) for i in "abd"] == ["approver", "viewer", None]


def test_a_star_rule_makes_the_scope_all() -> None:
    access = _access(
        {"role": "viewer", "emails": ["v@example.org"], "initiatives": "*"},
        {"role": "approver", "emails": ["v@example.org"], "initiatives": ["a"]},
    )
    v = resolve(access, {"email": "v@example.org"})
    assert v.initiatives is None and v.may_see("anything")
    assert v.may_decide("a") and not v.may_decide("anything")
    assert v.subject == "v@example.org"  # no `sub` claim: the e-mail is the subject
    assert not v.is_admin


def test_no_matching_rule_sees_nothing() -> None:
    access = _access({"role": "admin", "emails": ["root@example.org"]})
    nobody = resolve(access, {"sub": "x", "email": "x@example.org", "groups": ["admins"]})
    assert nobody.role is None and nobody.initiatives == frozenset()
    assert not nobody.may_see("a") and not nobody.may_decide("a")
    assert nobody.label == "x@example.org" and nobody.scope_label == "nothing"


def test_local_demo_identity_and_service_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    demo = local_demo_identity()
    assert (demo.subject, demo.role, demo.initiatives, demo.authenticated) == (
        "local-demo",
        "admin",
        None,
        False,
    )
    assert demo.may_decide("any") and demo.is_admin
    config = load_config(ROOT / "config")
    monkeypatch.delenv(IDENTITY_ENV, raising=False)
    assert service_identity(config) == demo  # the demo config has no rules
    access = _access(
        {"role": "approver", "emails": ["bot@example.org"], "initiatives": ["sepsis-ews"]}
    )
    with_rules = config.model_copy(update={"access": access})
    assert service_identity(with_rules).role is None  # rules but no service identity: nothing
    monkeypatch.setenv(IDENTITY_ENV, "BOT@example.org")
    bot = service_identity(with_rules)
    assert (bot.label, bot.role, bot.authenticated) == ("BOT@example.org", "approver", False)
    assert bot.may_decide("sepsis-ews") and not bot.may_see("prior-auth")


def _viewer(*ids: str) -> Identity:
    return Identity("u", "v@example.org", None, (), "viewer", frozenset(ids), True)


def test_restrict_removes_initiative_b_from_the_report_entirely() -> None:
    run = engine.run(ROOT / "config")
    a, b = run.config.initiative("sepsis-ews"), run.config.initiative("prior-auth")
    before = json.dumps(run.report.to_jsonable())
    assert b.id in before and b.name in before  # the needle is there to be removed
    viewer = _viewer(a.id)
    restricted = restrict(run.config, viewer)
    assert [i.id for i in restricted.initiatives] == [a.id]
    assert {s.initiative for s in restricted.slos} == {a.id}
    assert all(w.initiative == a.id for w in restricted.waivers)
    _, report = compute_visible(run.config, run.data, run.report.as_of, viewer)
    text = json.dumps(report.to_jsonable())
    others = [i for i in run.config.initiatives if i.id != a.id]
    assert [(i.id, i.name) for i in others if i.id in text or i.name in text] == []
    assert [i.id for i in report.initiatives] == [a.id]
    # A's own block is the same as for an identity that sees everything
    full = run.report.initiative(a.id)
    assert full is not None and report.initiative(a.id) == full
    data = restrict_data(run.config, run.data, viewer)
    for name, frame in data.tables.items():
        if "initiative" in frame.collect_schema().names():
            seen = set(frame.collect().get_column("initiative").unique())
            assert seen <= {a.id}, name


def test_an_identity_that_sees_everything_gets_the_config_unchanged() -> None:
    config = load_config(ROOT / "config")
    assert restrict(config, local_demo_identity()) is config
    nobody = Identity("x", None, None, (), None, frozenset(), True)
    assert restrict(config, nobody).initiatives == []


def _copy_config(tmp_path: Path, access: Any) -> Path:
    target = tmp_path / "config"
    target.mkdir(parents=True)
    for name in ("initiatives.yaml", "gates.yaml", "controls.yaml"):
        (target / name).write_text((ROOT / "config" / name).read_text(encoding="utf-8"))
    (target / "access.yaml").write_text(access, encoding="utf-8")
    return target


def test_access_yaml_unknown_initiative_is_a_located_error(tmp_path: Path) -> None:
    text = yaml.safe_dump(
        {
            "access": {
                "rules": [
                    {"role": "viewer", "emails": ["a@example.org"], "initiatives": "*"},
                    {
                        "role": "viewer",
                        "emails": ["b@example.org"],
                        "initiatives": ["sepsis-ews", "nope"],
                    },
                ]
            }
        },
        sort_keys=False,
    )
    directory = _copy_config(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(directory)
    found = [str(i) for i in err.value.issues]
    assert len(found) == 1, found
    # rule 1, its second initiative; the YAML line of "- nope" (line 1 "access:", 2 "rules:",
    # 3-6 rule 0, 7 "- role" of rule 1, 8 emails:, 9 "- b@...", 10 initiatives:, 11, 12 "- nope")
    assert "access.yaml" in found[0] and "access.rules[1].initiatives[1]" in found[0]
    assert "'nope'" in found[0] and ":12" in found[0]


def test_access_yaml_is_optional_and_a_bad_key_is_located(tmp_path: Path) -> None:
    assert load_config(_copy_config(tmp_path / "ok", "access:\n")).access == Access()
    bad = "access:\n  rules:\n    - role: owner\n      emails: [a@example.org]\n"
    with pytest.raises(ConfigError) as err:
        load_config(_copy_config(tmp_path / "bad", bad))
    found = [str(i) for i in err.value.issues]
    assert any("access.rules[0].role" in f and "access.yaml" in f for f in found), found
