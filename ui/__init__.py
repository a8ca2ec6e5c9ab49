"""The app's shared UI: context, sidebar, labels, formatters, widgets (docs/architecture.md)."""
