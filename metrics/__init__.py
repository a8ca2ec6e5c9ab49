"""Pure readiness metrics: canonical frames + config + as-of instant in, frames out (no I/O)."""
