"""Data quality: recent refreshes, their files of the last 30 days, quarantine by rule, held rows, validations."""

from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import queries
from dashboard.glossary import for_screen
from dashboard.session import download_link, page_header
from securebase.layout import reports_folder

warehouse, viewer = page_header("Data quality")
report = queries.quality(warehouse)

st.subheader("Recent refreshes")
st.dataframe(for_screen(report["refreshes"], viewer.min_cell, missing="—"), hide_index=True)

st.subheader(f"Files of the last {queries.FILES_DAYS} days of refreshes")
files = report["files"]
rejected = files.filter(pl.col("status") == "rejected")
if rejected.height:
    st.error(f"{rejected.height} file(s) rejected whole: nothing of them was loaded.")
st.dataframe(for_screen(files, viewer.min_cell, missing="—"), hide_index=True)
st.caption("Each file with the refresh it came in; a rejected file's reason names its rule or column, never a value.")

st.subheader("Quarantined rows, by rule and column")
quarantine = report["quarantine"]
held = quarantine.filter(pl.col("rule") == "unknown_participant")["rows"].sum()
st.metric(
    "Rows held for a participant who has not arrived yet",
    held,
    help="Retried on every refresh; they load as soon as the participant is in a participants file.",
)
if quarantine.is_empty():
    st.success("No row is quarantined.")
else:
    st.dataframe(for_screen(quarantine, viewer.min_cell, missing="—"), hide_index=True)

st.subheader("Validation results of the last refresh")
st.dataframe(for_screen(report["validations"], viewer.min_cell, missing="—"), hide_index=True)
refresh_id = queries.freshness(warehouse).get("refresh_id")
page = reports_folder(Path(warehouse.path)) / f"refresh-{refresh_id or 0:04d}.html"
if page.exists():
    download_link("Download the validation report (HTML)", page.read_bytes(), page.name, "text/html")
st.caption("Reports name files, rules, columns and rows; they never show a value.")
