"""The floor for benchmarks/bench_pages.py: a trivial two-page Streamlit app.

Each page is a title, a table and one chart (st.navigation over two pages, like app.py), so a
page of the real app can be compared with what Streamlit itself costs on the same machine.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")


def _page(title: str, marker: str) -> None:
    frame = pl.DataFrame({"day": list(range(1, 31)), "value": [(d * 7) % 11 for d in range(1, 31)]})
    st.title(title)
    st.dataframe(frame, hide_index=True)
    st.line_chart(frame, x="day", y="value")
    st.caption(marker)


def first() -> None:
    """Page one."""
    _page("Floor one", "End of page one")


def second() -> None:
    """Page two."""
    _page("Floor two", "End of page two")


st.navigation(
    [
        st.Page(first, title="Floor one", url_path="one", default=True),
        st.Page(second, title="Floor two", url_path="two"),
    ]
).run()
