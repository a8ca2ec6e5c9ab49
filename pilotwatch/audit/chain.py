"""The hash chain: `hash = SHA-256(previous hash + canonical JSON of the entry)`.

docs/governance.md, "The hash chain and how to verify it": the hashed entry is
`{"seq", "at", "kind", "actor", "body"}`; the first entry's previous hash is "".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

HASHED_FIELDS = ("seq", "at", "kind", "actor", "body")


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant white space, non-ASCII kept (hashed as UTF-8); no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def chain_hash(previous: str, entry: Mapping[str, Any]) -> str:
    """Hex SHA-256 of `previous + canonical_json(entry)`, encoded as UTF-8."""
    return hashlib.sha256((previous + canonical_json(entry)).encode("utf-8")).hexdigest()


def hashed_entry(seq: int, at: str, kind: str, actor: str, body: Any) -> dict[str, Any]:
    """The fields an entry's hash covers, in the documented shape."""
    return {"seq": seq, "at": at, "kind": kind, "actor": actor, "body": body}
