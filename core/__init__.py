"""The shared vocabulary every layer may import: config models, durations, canonical tables, enums.

Nothing in core/ imports another package of the project (docs/architecture.md).
"""
