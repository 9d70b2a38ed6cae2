"""The workbench's pages: what the router (analysis/workbench/app.py) registers with st.navigation, one
file a page. Pages are named by absolute path (:func:`page_file`), so they resolve wherever the package
is installed, whichever entry script Streamlit runs (the checkout's app.py or the installed one)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def page_file(name: str) -> str:
    """The absolute path of page ``name`` (``"read_code"`` or ``"read_code.py"``), for st.Page,
    st.switch_page and st.page_link."""
    return str(HERE / (name if name.endswith(".py") else f"{name}.py"))
