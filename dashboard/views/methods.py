"""Methods: how every figure is computed (METHODS.md), for clinicians and funders."""

from importlib import resources

import streamlit as st

# dashboard/METHODS.md links to the project's METHODS.md in the checkout, and is that file in the wheel
st.markdown((resources.files("dashboard") / "METHODS.md").read_text(encoding="utf-8"))
