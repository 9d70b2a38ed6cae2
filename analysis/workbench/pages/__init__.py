"""The workbench's pages: what app.py registers with st.navigation, one file a page."""
