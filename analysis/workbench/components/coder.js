// Storyloom's text-coding component (Streamlit Custom Components v2; an ES module, no build step).
//
// Python passes data = {html, transcript, base, clearable, focus, labels, stripes, codes, selection}. The html goes into ONE pre-wrap
// element (.text) whose text content is exactly the stored transcript text (or the slice of it that
// starts at code point `base`); a new `focus` token asks once to scroll to the marked codings.
// A mouse selection is measured with a DOM Range from the start of .text, which counts UTF-16 code
// units; it is converted to code points (Python's str indices) before it is sent, so emoji and other
// astral characters do not shift the offsets. Macrons (NFC, one code unit) and line breaks (real "\n"
// in the text node, never <br>) count 1 each on both sides.
//
// Triggers sent to Python (each one rerun):
//   selected: {transcript, start, end, text}  a non-empty selection inside the transcript
//   clicked:  {transcript, offset, ids}       a click (no selection) on coded text: ids of its codings
//                                             (ids = [] on plain text, only when there is something to clear)
//   keycoded: {transcript, code, start, end, text}  keyboard coding: with a selection, the key C opens a
//                                             type-ahead over data.codes; Enter sends the chosen code (start/
//                                             end/text of a live selection, or null: the pending data.selection)
//
// Coding stripes (data.stripes): one bar per coding in the margin (.stripes, outside .text, so no text is
// added), beside the lines its highlight covers, with its code's name (data.labels[id] = [name, colour]);
// recomputed when the text reflows.

const MOUNTS = new WeakMap(); // parentElement (a ShadowRoot) -> per-mount state

// Where the researcher was in each transcript, kept for the browser tab (survives page switches).
function remember(name, top) {
  try { sessionStorage.setItem(`storyloom:scroll:${name}`, String(Math.round(top))); } catch (e) { /* private mode */ }
}
function recall(name) {
  try { return Number(sessionStorage.getItem(`storyloom:scroll:${name}`)) || 0; } catch (e) { return 0; }
}

function codePoints(s) {
  let n = 0;
  for (const _ of s) n += 1; // a string iterator yields whole code points
  return n;
}

function selectionOf(root) {
  const sel = typeof root.getSelection === "function" ? root.getSelection() : document.getSelection();
  return sel && sel.rangeCount > 0 ? sel : null;
}

// The [start, end) of `range` in code points of the text of `text`, clamped to it, plus its text.
export function measure(text, range) {
  let sc = range.startContainer, so = range.startOffset, ec = range.endContainer, eo = range.endOffset;
  const before = (node) => !!(text.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_PRECEDING);
  if (!text.contains(sc)) { if (before(sc)) { sc = text; so = 0; } else return null; }
  if (!text.contains(ec)) { if (before(ec)) return null; ec = text; eo = text.childNodes.length; }
  const head = document.createRange();
  head.setStart(text, 0);
  head.setEnd(sc, so);
  const picked = document.createRange();
  picked.setStart(sc, so);
  picked.setEnd(ec, eo);
  const seen = picked.toString(); // Range.toString: the text nodes only, no layout newlines
  const start = codePoints(head.toString());
  return { start, end: start + codePoints(seen), text: seen };
}

function install(root, state) {
  const text = root.querySelector(".text");
  const box = root.querySelector(".scroll");
  text.addEventListener("mousedown", () => { state.pressed = Date.now(); });
  box.addEventListener("scroll", () => remember(state.data.transcript, box.scrollTop), { passive: true });
  const onUp = (event) => {
    if (!root.host || !root.host.isConnected) { document.removeEventListener("mouseup", onUp, true); return; }
    if (!state.pressed) return; // only gestures that began in the transcript
    state.pressed = 0;
    // The coded span under the pointer; composedPath() is only filled while the event is dispatched.
    const path = event.composedPath ? event.composedPath() : [event.target];
    const hit = path.find((el) => el instanceof Element && el.classList.contains("c"));
    // Let the browser finish updating the selection (a double click selects a word on mouseup).
    setTimeout(() => { report(root, state, hit); render(root, state); }, 0);
  };
  document.addEventListener("mouseup", onUp, true);
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => stripes(root, state)).observe(text);
  }
  const onKey = (event) => {
    if (!root.host || !root.host.isConnected) { window.removeEventListener("keydown", onKey, true); return; }
    if (event.key !== "c" && event.key !== "C") return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const origin = event.composedPath ? event.composedPath()[0] : event.target;
    if (origin && (origin.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(origin.tagName || ""))) return;
    const live = liveSelection(root);
    if (!live && !state.data.selection) return;
    event.preventDefault();
    event.stopImmediatePropagation(); // not Streamlit's own "c" (clear caches)
    openQuick(root, state, live);
  };
  window.addEventListener("keydown", onKey, true);
  installQuick(root, state);
}

// The selection in the transcript now, measured (null when there is none).
function liveSelection(root) {
  const sel = selectionOf(root);
  const range = sel ? sel.getRangeAt(0) : null;
  if (!range || range.collapsed) return null;
  const m = measure(root.querySelector(".text"), range);
  return m && m.end > m.start ? { ...m, range } : null;
}

// -- keyboard coding: a type-ahead over the codebook ------------------------------------------------
function matches(codes, typed) {
  const words = typed.toLowerCase().split(/\s+/).filter(Boolean);
  const hits = codes.filter(([, path]) => words.every((w) => path.toLowerCase().includes(w)));
  const name = (path) => path.split(" > ").pop().toLowerCase();
  const first = words[0] || "";
  return hits.sort((a, b) => (name(b[1]).startsWith(first) - name(a[1]).startsWith(first))).slice(0, 8);
}

function fillQuick(root, state) {
  const qc = root.querySelector(".qc");
  const list = qc.querySelector("ul");
  const found = matches(state.data.codes || [], qc.querySelector("input").value);
  state.quick.found = found;
  state.quick.index = Math.min(state.quick.index, Math.max(0, found.length - 1));
  list.innerHTML = "";
  if (!found.length) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = "No code matches";
    list.appendChild(li);
    return;
  }
  found.forEach(([id, path], i) => {
    const li = document.createElement("li");
    li.textContent = path;
    li.dataset.id = String(id);
    li.setAttribute("role", "option");
    if (i === state.quick.index) { li.className = "on"; li.setAttribute("aria-selected", "true"); }
    li.addEventListener("mousedown", (e) => { e.preventDefault(); state.quick.index = i; applyQuick(root, state); });
    list.appendChild(li);
  });
}

function closeQuick(root, state) {
  root.querySelector(".qc").hidden = true;
  state.quick = null;
}

function applyQuick(root, state) {
  const q = state.quick;
  if (!q || !q.found || !q.found.length) return;
  const [code] = q.found[q.index];
  const { transcript, base = 0 } = state.data;
  const live = q.live;
  closeQuick(root, state);
  state.send("keycoded", {
    transcript, code,
    start: live ? base + live.start : null, end: live ? base + live.end : null, text: live ? live.text : null,
  });
}

function installQuick(root, state) {
  const qc = root.querySelector(".qc");
  const input = qc.querySelector("input");
  input.addEventListener("keydown", (event) => {
    event.stopPropagation(); // typing here is not a Streamlit shortcut
    const q = state.quick;
    if (!q) return;
    if (event.key === "ArrowDown") { q.index = Math.min(q.index + 1, (q.found || []).length - 1); fillQuick(root, state); event.preventDefault(); }
    else if (event.key === "ArrowUp") { q.index = Math.max(q.index - 1, 0); fillQuick(root, state); event.preventDefault(); }
    else if (event.key === "Enter") { event.preventDefault(); applyQuick(root, state); }
    else if (event.key === "Escape") { event.preventDefault(); closeQuick(root, state); }
  });
  input.addEventListener("input", () => { if (state.quick) { state.quick.index = 0; fillQuick(root, state); } });
  input.addEventListener("blur", () => setTimeout(() => { if (state.quick) closeQuick(root, state); }, 150));
}

function openQuick(root, state, live) {
  const qc = root.querySelector(".qc");
  const page = root.querySelector(".page");
  const anchor = live ? live.range : root.querySelector(".text .sel");
  const rects = anchor ? anchor.getClientRects() : [];
  const last = rects.length ? rects[rects.length - 1] : null;
  const box = page.getBoundingClientRect();
  qc.style.top = `${last ? last.bottom - box.top + 6 : 40}px`;
  qc.style.left = `${last ? Math.max(8, Math.min(last.left - box.left, box.width - 340)) : 40}px`;
  qc.hidden = false;
  state.quick = { live, index: 0, found: [] };
  const input = qc.querySelector("input");
  input.value = "";
  fillQuick(root, state);
  input.focus({ preventScroll: true });
}

// -- coding stripes in the margin --------------------------------------------------------------------
function stripes(root, state) {
  const layer = root.querySelector(".stripes");
  const page = root.querySelector(".page");
  if (!layer || !page) return;
  layer.innerHTML = "";
  if (!state.data.stripes) { layer.style.width = "0px"; page.classList.remove("striped"); return; }
  page.classList.add("striped");
  const labels = state.data.labels || {};
  const top0 = page.getBoundingClientRect().top;
  const spans = new Map(); // coding id -> [top, bottom]
  for (const el of root.querySelectorAll(".text .c")) {
    const rects = el.getClientRects();
    if (!rects.length) continue;
    const t = rects[0].top - top0, b = rects[rects.length - 1].bottom - top0;
    for (const id of el.dataset.c.split(" ")) {
      const had = spans.get(id);
      spans.set(id, had ? [Math.min(had[0], t), Math.max(had[1], b)] : [t, b]);
    }
  }
  const ordered = [...spans.entries()].sort((a, b) => a[1][0] - b[1][0] || b[1][1] - a[1][1]);
  const lanes = []; // bottom of the last stripe in each lane
  const LANE = 18;
  for (const [id, [t, b]] of ordered) {
    let lane = lanes.findIndex((bottom) => bottom + 3 <= t);
    if (lane < 0) { lane = lanes.length; lanes.push(b); } else lanes[lane] = b;
    const [name, colour] = labels[id] || ["", "#c9c9c9"];
    const bar = document.createElement("div");
    bar.className = "stripe";
    bar.dataset.c = id;
    bar.title = name;
    bar.style.cssText = `top:${t + 1}px;height:${Math.max(8, b - t - 2)}px;left:${lane * LANE}px;--sc:${colour}`;
    const label = document.createElement("span");
    label.textContent = name;
    bar.appendChild(label);
    layer.appendChild(bar);
  }
  layer.style.width = `${Math.max(1, lanes.length) * LANE + 4}px`;
}

function report(root, state, hit) {
  const text = root.querySelector(".text");
  const { transcript, base = 0, clearable = false } = state.data;
  const sel = selectionOf(root);
  const range = sel ? sel.getRangeAt(0) : null;
  if (range && !range.collapsed) {
    const m = measure(text, range);
    if (m && m.end > m.start) {
      state.send("selected", { transcript, start: base + m.start, end: base + m.end, text: m.text });
    }
    return;
  }
  let offset = null;
  if (range && text.contains(range.startContainer)) {
    const head = document.createRange();
    head.setStart(text, 0);
    head.setEnd(range.startContainer, range.startOffset);
    offset = base + codePoints(head.toString());
  }
  const ids = hit ? hit.dataset.c.split(" ").map(Number) : [];
  if (ids.length || clearable) state.send("clicked", { transcript, offset, ids });
}

// Put the latest html in place (not during a drag: replacing the text under the pointer would end it).
function render(root, state) {
  const text = root.querySelector(".text");
  const box = root.querySelector(".scroll");
  const data = state.data;
  if (state.html !== data.html) {
    const keep = state.shown === data.transcript ? box.scrollTop : recall(data.transcript);
    text.innerHTML = data.html;
    text.dataset.base = String(data.base || 0);
    state.html = data.html;
    state.shown = data.transcript;
    box.scrollTop = keep;
  }
  if (state.stripesFor !== state.html || state.stripesOn !== !!data.stripes) { // after the text is laid out
    state.stripesFor = state.html;
    state.stripesOn = !!data.stripes;
    stripes(root, state);
  }
  if (data.focus && state.focused !== data.focus) { // scroll to the marked codings (or selection), once
    const target = text.querySelector(".on, .sel");
    if (target) box.scrollTop = Math.max(0, target.offsetTop - box.clientHeight / 3);
  }
  state.focused = data.focus || null;
}

export default function (component) {
  const { data, parentElement: root, setTriggerValue } = component;
  if (!data || !root.querySelector(".text") || !root.querySelector(".scroll")) return;
  let state = MOUNTS.get(root);
  if (!state) {
    state = { data, html: null, shown: null, focused: null, pressed: 0, send: setTriggerValue, quick: null,
              stripesFor: null, stripesOn: null };
    MOUNTS.set(root, state);
    install(root, state);
  }
  state.data = data;
  state.send = setTriggerValue;
  // A press older than a few seconds lost its mouseup (released outside the window): render anyway.
  if (!state.pressed || Date.now() - state.pressed > 4000) render(root, state);
}
