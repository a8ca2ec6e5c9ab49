"""Chain verification: recompute every hash and name the first entry that was tampered with.

docs/governance.md, "The hash chain and how to verify it". Each stored row must (1) carry the
next seq, (2) hash to its stored hash from its own fields, and (3) link to the previous row's
hash. The first row that fails is classified by what still fits around it:

- a seq gap, or a row whose content was hashed under a later seq and links to a row that is
  gone: *deleted*;
- content hashed under another seq whose linked row comes later in the log: *reordered*;
- content hashed under an earlier seq (later rows renumbered) linking to a row further back, or a
  row neither whose previous hash nor whose hash fits the chain: *inserted*;
- content that no longer hashes to the hash its successor still links to: *edited*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pilotwatch.audit.chain import chain_hash, hashed_entry

if TYPE_CHECKING:
    from pilotwatch.audit.store import AuditEntry, AuditLog, Verification


def _hash_as(entry: AuditEntry, seq: int) -> str:
    return chain_hash(
        entry.prev_hash, hashed_entry(seq, entry.at, entry.kind, entry.actor, entry.body)
    )


def _hashed_as(entry: AuditEntry, highest: int) -> int | None:
    """The other seq this entry's content was hashed under, if any (it was moved)."""
    for seq in range(1, highest + 2):
        if seq != entry.seq and _hash_as(entry, seq) == entry.hash:
            return seq
    return None


def verify_log(log: AuditLog) -> Verification:
    """Verify `log` (see the module docstring); an empty log verifies."""
    from pilotwatch.audit.store import UnreadableEntry, Verification

    links = log.links()
    position = {digest: i for i, (_, _, digest) in enumerate(links)}
    highest = max((seq for seq, _, _ in links), default=0)
    prev = ""
    checked = 0
    try:
        for i, entry in enumerate(log.iter_entries()):
            if i >= len(links):  # appended while verifying: checked next time
                break
            problem = _problem(entry, i, prev, links, position, highest)
            if problem is not None:
                first_bad, text = problem
                return Verification(False, checked, first_bad, text)
            prev = entry.hash
            checked += 1
    except UnreadableEntry as exc:  # only pilotwatch writes bodies, always as JSON objects
        return Verification(False, checked, exc.seq, f"{exc} (edited)")
    return Verification(True, checked, None, f"{checked} entries intact")


def _problem(
    entry: AuditEntry,
    i: int,
    prev: str,
    links: list[tuple[int, str, str]],
    position: dict[str, int],
    highest: int,
) -> tuple[int, str] | None:
    """(first bad seq, problem text) for the entry at position `i`, or None when it fits."""
    expected = i + 1
    s = entry.seq
    if s != expected:
        where = f"goes from entry {expected - 1} to" if expected > 1 else "starts at"
        return expected, f"entry {expected}: deleted (the log {where} entry {s})"
    own = _hash_as(entry, s) == entry.hash
    if own and entry.prev_hash == prev:
        return None
    j = position.get(entry.prev_hash)
    if own:  # consistent in itself, but not linked to its predecessor
        if j is not None and j > i:
            return s, f"entry {s}: reordered (it links to entry {links[j][0]}, which comes later)"
        if j is not None and j < i - 1:
            first = links[j + 1][0]
            return first, f"entry {first}: inserted (entry {s} links to entry {links[j][0]})"
        if i == 0:
            return s, f"entry {s}: deleted (it links to an entry that is no longer in the log)"
        before = links[i - 1][0]
        return (
            before,
            f"entry {before}: edited (its hash was recomputed; entry {s} no longer links to it)",
        )
    moved = _hashed_as(entry, highest)
    if moved is not None:
        held = f"entry {s} holds the content of entry {moved}"
        if j is None:
            return s, f"entry {s}: deleted ({held}, whose predecessor is no longer in the log)"
        if j > i:
            return s, f"entry {s}: reordered ({held})"
        if j < i - 1:
            first = links[j + 1][0]
            return first, f"entry {first}: inserted ({held} and links to entry {links[j][0]})"
        return s, f"entry {s}: edited (renumbered: {held})"
    successor_links = i + 1 < len(links) and links[i + 1][1] == entry.hash
    if entry.prev_hash == prev or successor_links:
        return s, f"entry {s}: edited (stored hash does not match its content)"
    return s, f"entry {s}: inserted (neither its previous hash nor its hash fits the chain)"
