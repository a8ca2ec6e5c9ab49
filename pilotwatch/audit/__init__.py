"""The tamper-evident audit log: hash chain, store, decisions (docs/governance.md)."""
