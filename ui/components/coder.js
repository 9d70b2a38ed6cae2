// Storyloom's text-coding component (Streamlit Custom Components v2; an ES module, no build step).
//
// Python passes data = {html, transcript, base, clearable, focus}. The html goes into ONE pre-wrap
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
    state = { data, html: null, shown: null, focused: null, pressed: 0, send: setTriggerValue };
    MOUNTS.set(root, state);
    install(root, state);
  }
  state.data = data;
  state.send = setTriggerValue;
  // A press older than a few seconds lost its mouseup (released outside the window): render anyway.
  if (!state.pressed || Date.now() - state.pressed > 4000) render(root, state);
}
