"""Connectors: the outside world in, the SPEC's canonical tables out."""
