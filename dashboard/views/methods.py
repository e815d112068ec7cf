"""Methods: how every figure is computed (METHODS.md), for clinicians and funders."""

from pathlib import Path

import streamlit as st

st.markdown((Path(__file__).resolve().parents[2] / "METHODS.md").read_text(encoding="utf-8"))
