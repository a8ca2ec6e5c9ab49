"""Connectors: the outside world in, the canonical tables out (docs/connectors.md)."""
