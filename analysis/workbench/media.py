"""Recordings in the workbench: served by the local app only, to the player in the coder component and to
"Listen" buttons elsewhere. The bytes are read once per process (kept while four recordings are in use) and
handed to Streamlit's media file manager, which serves them at a same-origin ``/media/...`` URL with HTTP
range requests: nothing of a recording is sent to any other host."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import streamlit as st

from analysis.domain.timing import span_time
from analysis.media.info import MediaInfo
from analysis.workbench.state import cached

PLAY = "sl_play"  # session key: {token, transcript, start, end}, a "Listen" request for the coder's player


@st.cache_resource(max_entries=4, show_spinner=False)
def _recording(path: str, sha256: str) -> bytes:
    return Path(path).read_bytes()


def media_of(name: str) -> MediaInfo | None:
    """The recording attached to transcript ``name`` (cached per project version)."""
    found: MediaInfo | None = cached(f"media:{name}", lambda p: p.media.of(name))
    return found


def url_of(info: MediaInfo) -> str | None:
    """The same-origin URL the local app serves ``info``'s recording at (None when its file is gone)."""
    try:
        from streamlit.runtime import Runtime

        if not Runtime.exists() or not info.path.is_file():
            return None
        data = _recording(str(info.path), info.sha256)
        url: str = Runtime.instance().media_file_mgr.add(data, info.mime, coordinates=f"storyloom.media.{info.sha256}")
        return url
    except OSError:
        return None


def payload(name: str) -> dict[str, str] | None:
    """What the coder component's player needs, or None (no recording, or its file missing)."""
    info = media_of(name)
    if info is None:
        return None
    url = url_of(info)
    return None if url is None else {"url": url, "kind": info.kind, "mime": info.mime, "name": info.file}


def passage_time(name: str, start: int, end: int) -> tuple[float, float | None] | None:
    """The seconds ``[start, end)`` of transcript ``name`` covers, from its anchors."""
    anchors = cached(f"anchors:{name}", lambda p: p.transcripts.anchors(name))
    timing = span_time(anchors, start, end)
    return None if timing is None else (timing.start, timing.end)


def request_listen(name: str, start: int, end: int, where: str = "reader") -> None:
    """Ask for exactly the passage ``[start, end)`` to be played (a callback): by Read & code's player
    (``where="reader"``) or by the small player under the quote whose button is ``where``."""
    found = passage_time(name, start, end)
    if found is not None:
        st.session_state[PLAY] = {"token": uuid.uuid4().hex, "transcript": name, "start": found[0], "end": found[1],
                                  "where": where}


def listen(name: str, start: int, end: int, *, key: str) -> None:
    """A "Listen" button beside a quote of transcript ``name`` (only when a recording is attached and the
    passage is timed); once pressed, a small player under it plays exactly that passage."""
    if media_of(name) is None or passage_time(name, start, end) is None:
        return
    st.button("Listen", key=f"{key}_listen", icon=":material/play_arrow:", type="tertiary",
              help="Play exactly this passage of the recording", on_click=request_listen, args=(name, start, end, key))
    request = st.session_state.get(PLAY)
    if isinstance(request, dict) and request.get("where") == key:
        info = media_of(name)
        url = url_of(info) if info is not None else None
        if url is None or info is None:
            st.caption("The recording's file is missing from media/.")
            return
        from analysis.workbench.components.listen import listen_player

        end_t = request["end"]
        label = f"{_clock(request['start'])}–{_clock(end_t)}" if end_t is not None else _clock(request["start"])
        listen_player(url=url, kind=info.kind, start=float(request["start"]), end=end_t, token=str(request["token"]),
                      label=label, key=f"{key}_player")


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def play_request(name: str) -> dict[str, Any] | None:
    """The pending "Listen" request for transcript ``name``, if any."""
    request = st.session_state.get(PLAY)
    ok = isinstance(request, dict) and request.get("transcript") == name and request.get("where") == "reader"
    return request if ok else None
