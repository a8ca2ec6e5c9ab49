"""SLO definitions from the standards: OpenSLO, Sloth, Pyrra in; OpenSLO, Prometheus rules out.

Every import is faithful or refused (docs/bring-your-slos.md): each field of a produced SLO says
what it was mapped from, and whatever cannot be represented exactly is a `Refusal` naming the
file, the document, the field and the reason.
"""
