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
// The player (data.media = {url, kind, mime, name}: the recording, served by the local app only): an <audio>
// or <video> element in .player above the text; a clickable time in the margin (.times, outside .text) for each
// line that has an anchor (.tm markers, empty elements: no text added); while it plays, the stretch from the
// anchor at or before the current time to the next is highlighted (CSS Custom Highlight "storyloom-now", and
// .text[data-playing] = that anchor's code point offset) and the view follows it (the "Follow" box). Keys:
// Esc play/pause; Ctrl+Left/Right back/forward 5 s; Ctrl+Down/Up slower/faster (0.5x-2x). data.play =
// {token, start, end}: play exactly [start, end) seconds, once per token (a coding's or a quote's "Listen").
//
// Coding stripes (data.stripes): one bar per coding in the margin (.stripes, outside .text, so no text is
// added), beside the lines its highlight covers, with its code's name (data.labels[id] = [name, colour]);
// recomputed when the text reflows.
//
// A new html for the transcript already shown (a code applied, a coding removed or undone, a selection marked)
// is patched in: only the blocks (turns) whose html changed are replaced, and only their highlights are measured
// again for the stripes (the other blocks' measures are kept while no replaced block changed height); the
// result is the DOM a full render makes (tests/browser/test_browser_patch.py). Another transcript, a different
// number of blocks or a reflow replaces or measures everything.

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
    new ResizeObserver(() => { stripes(root, state); times(root, state); }).observe(text);
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
  const onPlayerKey = (event) => {
    if (!root.host || !root.host.isConnected) { window.removeEventListener("keydown", onPlayerKey, true); return; }
    const media = state.media;
    if (!media || state.quick) return;
    const origin = event.composedPath ? event.composedPath()[0] : event.target;
    const typing = origin && (origin.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(origin.tagName || ""));
    let done = true;
    if (event.key === "Escape" && !event.ctrlKey && !event.altKey && !event.metaKey) {
      if (media.paused) media.play().catch(() => {}); else media.pause();
    } else if (event.ctrlKey && !typing && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
      media.currentTime = Math.max(0, media.currentTime + (event.key === "ArrowLeft" ? -5 : 5));
    } else if (event.ctrlKey && !typing && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      const rate = Math.round((media.playbackRate + (event.key === "ArrowUp" ? 0.25 : -0.25)) * 100) / 100;
      media.playbackRate = Math.min(2, Math.max(0.5, rate));
      showRate(root, media);
    } else done = false;
    if (done) { event.preventDefault(); event.stopImmediatePropagation(); }
  };
  window.addEventListener("keydown", onPlayerKey, true);
}

// -- the player ---------------------------------------------------------------------------------------
function showRate(root, media) {
  const rate = root.querySelector(".player .rate");
  if (rate) rate.textContent = `${media.playbackRate.toFixed(2).replace(/0$/, "")}x`;
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`;
}

function following() {
  try { return sessionStorage.getItem("storyloom:follow") !== "off"; } catch (e) { return true; }
}

function player(root, state) {
  const box = root.querySelector(".player");
  const media = state.data.media;
  if (!media) { box.hidden = true; box.innerHTML = ""; state.media = null; state.mediaUrl = null; return; }
  if (state.mediaUrl === media.url && state.media) return;
  state.mediaUrl = media.url;
  box.hidden = false;
  box.innerHTML = "";
  const frame = document.createElement("div");
  frame.className = media.kind === "video" ? "frame video" : "frame";
  const el = document.createElement(media.kind === "video" ? "video" : "audio");
  el.controls = true;
  el.preload = "metadata";
  el.setAttribute("data-testid", "storyloom-media");
  el.src = media.url;
  frame.appendChild(el);
  box.appendChild(frame);
  const side = document.createElement("div");
  side.className = "controls";
  side.innerHTML = '<label class="follow"><input type="checkbox"> Follow</label><span class="rate">1x</span>' +
    '<span class="keys">Esc play/pause · Ctrl+←/→ 5 s · Ctrl+↓/↑ speed · click a time to play from there</span>';
  const follow = side.querySelector("input");
  follow.checked = following();
  follow.addEventListener("change", () => {
    try { sessionStorage.setItem("storyloom:follow", follow.checked ? "on" : "off"); } catch (e) { /* private */ }
  });
  box.appendChild(side);
  state.media = el;
  el.addEventListener("timeupdate", () => heard(root, state));
  el.addEventListener("seeked", () => heard(root, state));
  el.addEventListener("ratechange", () => showRate(root, el));
}

// The anchors of the text, in order, with their times (read from the .tm markers).
function anchors(root) {
  return [...root.querySelectorAll(".text .tm")].map((el) => ({
    el, offset: Number(el.dataset.o), t: Number(el.dataset.t), e: el.dataset.e === undefined ? null : Number(el.dataset.e),
  }));
}

function heard(root, state) {
  const media = state.media;
  if (!media) return;
  const now = media.currentTime;
  if (state.until !== null && state.until !== undefined && now >= state.until) { // "Listen": exactly the passage
    state.until = null;
    media.pause();
  }
  const list = state.anchors || [];
  let i = -1;
  for (let k = 0; k < list.length; k += 1) { if (list[k].t <= now + 0.05) i = k; else if (list[k].t > now + 0.05 && i >= 0) break; }
  const text = root.querySelector(".text");
  if (i < 0) { delete text.dataset.playing; if (window.CSS && CSS.highlights) CSS.highlights.delete("storyloom-now"); return; }
  const here = list[i];
  if (text.dataset.playing === String(here.offset)) return;
  text.dataset.playing = String(here.offset);
  const range = document.createRange();
  range.setStartAfter(here.el);
  const next = list[i + 1];
  const block = here.el.closest(".blk");
  if (next && (!block || block.contains(next.el))) range.setEndBefore(next.el);
  else if (block) range.setEndAfter(block.lastChild);
  else range.setEndAfter(text.lastChild);
  if (window.CSS && CSS.highlights && typeof Highlight === "function") CSS.highlights.set("storyloom-now", new Highlight(range));
  for (const el of root.querySelectorAll(".times .on")) el.classList.remove("on");
  const stamp = root.querySelector(`.times [data-o="${here.offset}"]`);
  if (stamp) stamp.classList.add("on");
  const follow = root.querySelector(".player .follow input");
  if (follow && follow.checked) {
    const box = root.querySelector(".scroll");
    const rect = range.getBoundingClientRect(), view = box.getBoundingClientRect();
    const bar = root.querySelector(".player").getBoundingClientRect().height;
    if (rect.top < view.top + bar || rect.bottom > view.bottom) {
      box.scrollTop += rect.top - view.top - bar - box.clientHeight / 4;
    }
  }
}

function playFrom(state, start, until) {
  const media = state.media;
  if (!media) return;
  state.until = until;
  const go = () => { media.currentTime = start; media.play().catch(() => {}); };
  if (media.readyState >= 1) go(); else media.addEventListener("loadedmetadata", go, { once: true });
}

// One clickable time per visual line that holds an anchor, in the left margin (outside .text).
function times(root, state) {
  const layer = root.querySelector(".times");
  const page = root.querySelector(".page");
  layer.innerHTML = "";
  state.anchors = anchors(root);
  if (!state.data.media || !state.anchors.length) { page.classList.remove("timed"); return; }
  page.classList.add("timed");
  const top0 = page.getBoundingClientRect().top;
  layer.style.left = `${root.querySelector(".text").getBoundingClientRect().left - page.getBoundingClientRect().left}px`;
  let last = -1e9;
  for (const a of state.anchors) {
    const rects = a.el.getClientRects();
    const top = rects.length ? rects[0].top - top0 : a.el.offsetTop;
    if (Math.abs(top - last) < 4) continue; // one time per visual line: the first anchor on it
    last = top;
    const stamp = document.createElement("button");
    stamp.type = "button";
    stamp.className = "stamp";
    stamp.dataset.o = String(a.offset);
    stamp.dataset.t = String(a.t);
    stamp.textContent = clock(a.t);
    stamp.title = `Play from ${clock(a.t)}`;
    stamp.style.top = `${top}px`;
    stamp.addEventListener("click", (event) => { event.preventDefault(); playFrom(state, a.t, null); });
    layer.appendChild(stamp);
  }
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
// The lines each block's highlights cover: [[coding ids, top, bottom], ...] from the page's top (one
// getClientRects per highlight of that block only).
function measureBlock(block, top0) {
  const out = [];
  for (const el of block.querySelectorAll(".c")) {
    const rects = el.getClientRects();
    if (!rects.length) continue;
    out.push([el.dataset.c, rects[0].top - top0, rects[rects.length - 1].bottom - top0]);
  }
  return out;
}

// Measure every block (the text was replaced, reflowed, or the stripes were turned on); `only`: the indices
// of the blocks a patch replaced (the others kept their place: their measures are reused).
function measureStripes(root, state, only) {
  const page = root.querySelector(".page");
  const blocks = root.querySelector(".text").children;
  const top0 = page.getBoundingClientRect().top;
  if (!only || !state.geo || state.geo.length !== blocks.length) {
    state.geo = Array.from(blocks, (block) => measureBlock(block, top0));
    return;
  }
  for (const i of only) state.geo[i] = measureBlock(blocks[i], top0);
}

// Draw one bar per coding from the measures (no layout read here).
function drawStripes(root, state) {
  const layer = root.querySelector(".stripes");
  const labels = state.data.labels || {};
  const spans = new Map(); // coding id -> [top, bottom]
  for (const block of state.geo || []) {
    for (const [ids, t, b] of block) {
      for (const id of ids.split(" ")) {
        const had = spans.get(id);
        spans.set(id, had ? [Math.min(had[0], t), Math.max(had[1], b)] : [t, b]);
      }
    }
  }
  const ordered = [...spans.entries()].sort((a, b) => a[1][0] - b[1][0] || b[1][1] - a[1][1]);
  const lanes = []; // bottom of the last stripe in each lane
  const LANE = 18;
  const bars = document.createDocumentFragment();
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
    bars.appendChild(bar);
  }
  layer.replaceChildren(bars);
  layer.style.width = `${Math.max(1, lanes.length) * LANE + 4}px`;
}

// The stripes, measured afresh (`only`: just the blocks a patch replaced) and drawn.
function stripes(root, state, only) {
  const layer = root.querySelector(".stripes");
  const page = root.querySelector(".page");
  if (!layer || !page) return;
  if (!state.data.stripes) {
    layer.replaceChildren();
    layer.style.width = "0px";
    page.classList.remove("striped");
    state.geo = null;
    return;
  }
  page.classList.add("striped");
  measureStripes(root, state, only);
  drawStripes(root, state);
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

// The top-level blocks of the transcript's html (a turn, an aside or a gap each: transcript_html cuts the text
// into contiguous blocks that never nest; text is escaped, so this tag only opens a block), as strings.
function blocksOf(html) {
  return html ? html.split(/(?=<span class="(?:blk|gap)[ "])/) : [];
}

// Applying a code (uncoding, undoing one, selecting a passage) changes a block or two of the same transcript:
// replace only the blocks whose html changed (parsed on their own, as innerHTML would parse them), so the rest
// of the text is neither parsed again nor laid out and painted again. Returns the replaced blocks' indices and
// whether their height stayed the same (then every other block kept its place); null when it cannot patch (the
// block count changed, or the DOM is not the one the last html made): the caller replaces the whole text.
function patch(text, before, after) {
  const old = blocksOf(before), now = blocksOf(after);
  if (old.length !== now.length || text.children.length !== now.length || text.childNodes.length !== now.length) return null;
  const changed = [];
  for (let i = 0; i < now.length; i += 1) if (old[i] !== now[i]) changed.push(i);
  const spare = document.createElement("template");
  const fresh = [];
  for (const i of changed) {
    spare.innerHTML = now[i];
    if (spare.content.childNodes.length !== 1 || spare.content.firstChild.nodeType !== Node.ELEMENT_NODE) return null;
    fresh.push(spare.content.firstChild);
  }
  const heights = changed.map((i) => text.children[i].getBoundingClientRect().height);
  changed.forEach((i, k) => text.replaceChild(fresh[k], text.children[i]));
  const same = changed.every((i, k) => Math.abs(text.children[i].getBoundingClientRect().height - heights[k]) < 0.5);
  return { changed, same };
}

// Put the latest html in place (not during a drag: replacing the text under the pointer would end it).
function render(root, state) {
  const text = root.querySelector(".text");
  const box = root.querySelector(".scroll");
  const data = state.data;
  let patched = null; // {changed, same}: only these blocks were replaced
  if (state.html !== data.html) {
    const same = state.shown === data.transcript && state.html !== null;
    const keep = same ? box.scrollTop : recall(data.transcript);
    patched = same ? patch(text, state.html, data.html) : null;
    if (!patched) text.innerHTML = data.html;
    text.dataset.base = String(data.base || 0);
    state.html = data.html;
    state.shown = data.transcript;
    if (box.scrollTop !== keep) box.scrollTop = keep;
  }
  const inPlace = patched && patched.same; // the other blocks kept their place: their measures still hold
  player(root, state);
  if (state.stripesFor !== state.html || state.stripesOn !== !!data.stripes) { // after the text is laid out
    const only = inPlace && state.stripesOn === !!data.stripes && state.stripesFor !== null ? patched.changed : null;
    state.stripesFor = state.html;
    state.stripesOn = !!data.stripes;
    stripes(root, state, only);
  }
  if (state.timesFor !== state.html || state.timesUrl !== state.mediaUrl) {
    if (inPlace && state.timesFor !== null && state.timesUrl === state.mediaUrl) {
      state.anchors = anchors(root); // the same times in the same places; only the markers' elements are new
    } else {
      times(root, state);
    }
    state.timesFor = state.html;
    state.timesUrl = state.mediaUrl;
    if (state.media) { delete text.dataset.playing; heard(root, state); }
  }
  if (data.play && state.played !== data.play.token) { // "Listen": exactly this passage, once per request
    state.played = data.play.token;
    playFrom(state, Number(data.play.start), data.play.end === null ? null : Number(data.play.end));
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
              stripesFor: null, stripesOn: null, geo: null, media: null, mediaUrl: null, anchors: [], until: null,
              timesFor: null, timesUrl: null, played: null };
    MOUNTS.set(root, state);
    install(root, state);
  }
  state.data = data;
  state.send = setTriggerValue;
  // A press older than a few seconds lost its mouseup (released outside the window): render anyway.
  if (!state.pressed || Date.now() - state.pressed > 4000) render(root, state);
}
