"""Streamlit pages of the Storyloom workbench. Pages call ``Project`` methods only (no SQL)."""
