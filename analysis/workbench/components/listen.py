"""A small player for one passage ("Listen" beside a quote on Themes, Participants, Assist, Cases, Story):
an HTML audio (or video) element from the local app's same-origin URL that plays exactly ``[start, end)``
seconds once per request token, then stops. Custom Components v2, no build step."""

from __future__ import annotations

from typing import Any

_JS = """
const MOUNTS = new WeakMap();
export default function (component) {
  const { data, parentElement: root } = component;
  if (!data || !root.querySelector(".lp")) return;
  let state = MOUNTS.get(root);
  const box = root.querySelector(".lp");
  if (!state || state.url !== data.url) {
    box.querySelector(".slot").innerHTML = "";
    const el = document.createElement(data.kind === "video" ? "video" : "audio");
    el.controls = true;
    el.preload = "auto";
    el.setAttribute("data-testid", "storyloom-listen");
    el.src = data.url;
    box.querySelector(".slot").appendChild(el);
    state = { url: data.url, el, token: null, until: null };
    MOUNTS.set(root, state);
    el.addEventListener("timeupdate", () => {
      if (state.until !== null && el.currentTime >= state.until) { state.until = null; el.pause(); }
    });
  }
  box.querySelector(".what").textContent = data.label || "";
  if (state.token !== data.token) {
    state.token = data.token;
    state.until = data.end === null ? null : Number(data.end);
    const go = () => { state.el.currentTime = Number(data.start); state.el.play().catch(() => {}); };
    if (state.el.readyState >= 1) go(); else state.el.addEventListener("loadedmetadata", go, { once: true });
  }
}
"""
_CSS = """
.lp { display: flex; align-items: center; gap: .7rem; margin: .1rem 0 .6rem; }
.lp audio { width: min(24rem, 70vw); height: 2rem; }
.lp video { width: 16rem; }
.lp .what { font-size: .8rem; color: #5b6170; }
"""
_HTML = '<div class="lp"><span class="slot"></span><span class="what"></span></div>'
_component = None


def listen_player(*, url: str, kind: str, start: float, end: float | None, token: str, label: str, key: str) -> Any:
    """Mount the passage player (plays ``[start, end)`` of the recording at ``url`` once per ``token``)."""
    global _component
    if _component is None:
        import streamlit as st

        _component = st.components.v2.component("storyloom_listen", html=_HTML, css=_CSS, js=_JS)
    return _component(data={"url": url, "kind": kind, "start": start, "end": end, "token": token, "label": label},
                      key=key)
