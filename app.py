"""Storyloom workbench from a checkout: ``streamlit run app.py -- --project PATH``.

The router lives in the package (analysis/workbench/app.py), which the installed program runs
(``storyloom open``); this file only runs it.
"""

from analysis.workbench.app import main

main()
