"""The hash chain's formula (docs/governance.md, "The hash chain and how to verify it")."""

from __future__ import annotations

import pytest

from pilotwatch.audit.chain import canonical_json, chain_hash, hashed_entry


def test_canonical_json_sorts_keys_drops_spaces_keeps_unicode() -> None:
    assert canonical_json({"b": [1, 2], "a": "é"}) == '{"a":"é","b":[1,2]}'
    assert canonical_json({"z": {"y": None, "x": True}}) == '{"z":{"x":true,"y":null}}'


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_chain_hash_is_sha256_of_previous_plus_canonical_json() -> None:
    # printf '{"a":1}' | sha256sum  (first entry: previous is "")
    assert chain_hash("", {"a": 1}) == (
        "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
    )
    # printf 'abc{"a":"\xc3\xa9","b":[1,2]}' | sha256sum  (é is hashed as UTF-8 C3 A9)
    assert chain_hash("abc", {"b": [1, 2], "a": "é"}) == (
        "647c0e5f08780474609bad4e60b09b46e7eef321f4c4a17552169c9109018e0e"
    )


def test_chain_hash_depends_on_previous_and_on_every_field() -> None:
    entry = hashed_entry(1, "2026-11-16T12:00:00Z", "decision", "ann@example.org", {"x": 1})
    assert set(entry) == {"seq", "at", "kind", "actor", "body"}
    base = chain_hash("", entry)
    assert chain_hash("0" * 64, entry) != base
    for key, other in [
        ("seq", 2),
        ("at", "2026-11-16T12:00:01Z"),
        ("kind", "export"),
        ("actor", "bob@example.org"),
        ("body", {"x": 2}),
    ]:
        assert chain_hash("", {**entry, key: other}) != base, key
