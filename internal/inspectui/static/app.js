// The hatchetflow inspector page: a live list of signatures on the left (task, input
// and result previews, the full id), the live graph of the selected tree on the right
// (laid out by graph.js with the vendored dagre, drawn as SVG here, with zoom and pan),
// and beside it a collapsible detail panel: the node's fields, its run's Hatchet logs
// and dashboard link, and the lifecycle actions (cancel, suspend, resume, retry) when
// the server allows them. Roots show their whole flow's rolled-up status.
// No build step; everything the page needs is served by the Go server.
(function () {
  "use strict";

  const PAGE_SIZE = 50;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const MIN_ZOOM = 0.1, MAX_ZOOM = 3;
  const START_ZOOM_MIN = 0.7; // a new tree opens at least this large (then pan), to stay readable
  const EDGE_KINDS = ["step", "on-success", "on-error", "finally"];

  const state = {
    config: { actions: false, csrf: "", runURL: "" },
    listES: null, listRetry: 0, live: [], extra: [], next: "",
    treeES: null, treeRetry: 0, treeId: "", tree: null, nodes: new Map(), info: new Map(), selected: "",
    treeVersion: 0, drawnId: "", items: new Set(), wantSelect: "", flowSeq: 0,
    view: { k: 1, x: 0, y: 0 }, size: { w: 0, h: 0 }, suppressClick: false,
    detailKey: "", recordSeq: 0, logsSeq: 0, logsKey: "", logsTimer: 0,
  };
  const $ = (id) => document.getElementById(id);

  // --- status bar and errors -------------------------------------------------------

  const problems = new Map(); // source -> message
  function setProblem(source, msg) {
    if (msg) problems.set(source, msg); else problems.delete(source);
    const bar = $("statusbar");
    if (problems.size) {
      bar.textContent = Array.from(problems, ([k, v]) => k + ": " + v).join(" · ");
      bar.className = "error";
    } else {
      bar.textContent = state.note || "";
      bar.className = "";
    }
  }
  function note(msg) { state.note = msg; if (!problems.size) setProblem("", ""); }
  window.addEventListener("error", (e) => setProblem("page", e.message || "script error"));
  window.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    setProblem("page", (e.reason && e.reason.message) || String(e.reason));
  });

  // HTTPError is a failed API call: its status and the server's message.
  class HTTPError extends Error {
    constructor(status, msg) { super(msg); this.status = status; }
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    let body = null;
    try { body = await r.json(); } catch (_) { /* not JSON */ }
    if (!r.ok) throw new HTTPError(r.status, (body && body.error) || r.status + " " + r.statusText);
    return body;
  }

  // --- formatting ------------------------------------------------------------------

  function fmtDuration(ms) {
    if (!(ms >= 0)) return "?";
    if (ms < 1000) return ms + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    return Math.round(ms / 60000) + " min";
  }

  const pad = (n, w) => String(n).padStart(w || 2, "0");
  function fmtTime(s) {
    const d = new Date(s);
    if (!s || isNaN(d.getTime()) || d.getFullYear() < 1971) return "—";
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  // fmtShortTime is the time of day, with the date only when not today.
  function fmtShortTime(s) {
    const d = new Date(s);
    if (!s || isNaN(d.getTime()) || d.getFullYear() < 1971) return "—";
    const t = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    return d.toDateString() === new Date().toDateString() ? t : fmtTime(s).slice(5, 10) + " " + t;
  }
  const clip = hfGraph.clip;
  const tail = hfGraph.idTail;
  const statusOf = hfGraph.statusOf;
  function pretty(v) {
    if (v === undefined || v === null || (typeof v === "object" && Object.keys(v).length === 0)) return "—";
    return JSON.stringify(v, null, 2);
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // idSpan shows a full id with its distinguishing end in bold.
  function idSpan(id, cls) {
    const s = el("span", { class: cls || "id-full", title: id });
    const t = String(id || "");
    s.append(t.slice(0, -6), el("b", {}, t.slice(-6)));
    return s;
  }

  // copyText copies text to the clipboard (a secure page) or, failing that, selects
  // the element that shows it so that Ctrl+C does.
  function copyText(text, shown, button) {
    const done = () => {
      if (!button) return;
      button.classList.add("copied");
      button.textContent = "copied";
      setTimeout(() => { button.classList.remove("copied"); button.textContent = "copy"; }, 1200);
    };
    const select = () => {
      if (!shown) return;
      const r = document.createRange();
      r.selectNodeContents(shown);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(r);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, select);
    } else {
      select();
    }
  }

  // --- list ------------------------------------------------------------------------

  function listQuery(cursor) {
    const q = new URLSearchParams();
    const status = $("filter-status").value, task = $("filter-task").value.trim(), since = $("filter-since").value;
    if (status) q.set("status", status);
    if (task) q.set("task", task);
    if ($("filter-roots").checked) q.set("roots", "1");
    if (since) q.set("since", new Date(Date.now() - Number(since) * 1000).toISOString());
    q.set("limit", String(PAGE_SIZE));
    if (cursor) q.set("cursor", cursor);
    return q.toString();
  }

  function subscribeList() {
    if (state.listES) state.listES.close();
    clearTimeout(state.listRetry);
    state.extra = [];
    const q = listQuery("");
    const es = new EventSource("/api/list/events?" + q);
    state.listES = es;
    es.addEventListener("list", (e) => {
      const page = JSON.parse(e.data) || {};
      state.live = page.Entries || [];
      if (!state.extra.length) state.next = page.Next || "";
      setProblem("list", "");
      renderList();
    });
    es.addEventListener("problem", (e) => setProblem("list", JSON.parse(e.data).error));
    es.onerror = () => {
      if (es !== state.listES) return;
      if (es.readyState !== EventSource.CLOSED) { setProblem("list", "reconnecting…"); return; }
      // The stream was refused (an HTTP error): learn why, and try again later.
      getJSON("/api/list?" + q).then(() => setProblem("list", "stream closed; retrying"),
        (err) => setProblem("list", err.message));
      state.listRetry = setTimeout(subscribeList, 5000);
    };
  }

  async function loadMore() {
    const btn = $("list-more");
    btn.disabled = true;
    try {
      const page = await getJSON("/api/list?" + listQuery(state.next));
      state.extra = state.extra.concat(page.Entries || []);
      state.next = page.Next || "";
      setProblem("list", "");
      renderList();
    } catch (err) {
      setProblem("list", err.message);
    } finally {
      btn.disabled = false;
    }
  }

  // listRow is one record: its status and (a root's) flow badges, its task, kind and
  // creation time; what it ran with and what it gave; its full id with a copy button.
  function listRow(s) {
    const tr = el("tr", { "data-id": s.ID, "data-status": s.Status || "", "data-task": s.Task || "",
      "data-search": [s.ID, s.Task, s.Input, s.Result, s.Error].join(" ").toLowerCase() });
    if (s.ID === state.treeId) tr.className = "selected";
    const main = el("td", { class: "c-main" });
    const r1 = el("div", { class: "row-1" });
    r1.appendChild(el("span", { class: "badge s-" + (s.Status || "pending"), title: "this record: " + (s.Status || "?") }, s.Status || "?"));
    flowBadge(r1, s.Flow, s.ID);
    tr.dataset.flow = r1.dataset.flow || "";
    r1.appendChild(el("span", { class: "task", title: s.Task || "" }, s.Kind === "signature" || !s.Kind ? s.Task || "?" : s.Kind));
    r1.appendChild(el("span", { class: "created", title: "created " + fmtTime(s.CreatedAt) }, fmtShortTime(s.CreatedAt)));
    const r2 = el("div", { class: "row-2" });
    r2.appendChild(el("span", { class: "input", title: "input: " + (s.Input || "—") }, s.Input || "—"));
    const failed = s.Error && (s.Status === "failed" || s.Status === "cancelled");
    const out = failed ? "✗ " + s.Error : s.Result || "";
    if (out) {
      r2.appendChild(el("span", { class: "arrow-sep" }, "→"));
      r2.appendChild(el("span", { class: "result" + (failed ? " error" : ""), title: (failed ? "error: " : "result: ") + out }, out));
    }
    const r3 = el("div", { class: "row-3" });
    const ids = idSpan(s.ID);
    const copy = el("button", { type: "button", class: "copy", title: "copy the id" }, "copy");
    copy.addEventListener("click", (e) => { e.stopPropagation(); copyText(s.ID, ids, copy); });
    ids.addEventListener("click", (e) => e.stopPropagation()); // selecting the id does not open the tree
    r3.append(ids, copy);
    main.append(r1, r2, r3);
    tr.append(main);
    tr.addEventListener("click", () => {
      // A failed flow opens on the node that failed, where Retry is.
      state.wantSelect = s.Flow && s.Flow.Failed ? s.Flow.Failed.ID : "";
      openTreeLink(s.ID);
    });
    return tr;
  }

  function renderList() {
    const seen = new Set();
    const rows = [];
    for (const s of state.live.concat(state.extra)) {
      if (!seen.has(s.ID)) { seen.add(s.ID); rows.push(s); }
    }
    $("list-body").replaceChildren(...rows.map(listRow));
    $("list-empty").hidden = rows.length > 0;
    $("list-more").hidden = !state.next;
    applySearch();
  }

  // flowText is a flow's rolled-up status in a word or two: "failed", "active (3 open)".
  function flowText(f) {
    if (!f) return "";
    if (f.Missing) return "missing";
    if (f.Problem) return "?";
    let t = f.Status || "?";
    if (f.Open && f.Status !== "pending") t += " (" + f.Open + " open)";
    return t;
  }
  function failedText(f) {
    const n = f && f.Failed;
    if (!n) return "";
    return "first " + n.Status + ": " + (n.Task || n.Kind) + " " + tail(n.ID) + (n.Error ? ": " + clip(n.Error, 200) : "");
  }

  // flowBadge adds a root's rolled-up flow status (and the task that failed, when not
  // the root's) to cell, and sets cell.dataset.flow; nothing for the rest.
  function flowBadge(cell, f, id) {
    cell.dataset.flow = !f ? "" : f.Missing ? "missing" : f.Problem ? "unknown" : (f.Status || "");
    if (!f) return;
    const status = f.Missing ? "missing" : f.Problem ? "pending" : (f.Status || "pending");
    const b = el("span", { class: "badge flow s-" + status }, "flow " + flowText(f));
    b.title = f.Problem ? "flow not readable: " + f.Problem : (failedText(f) || "the whole flow (callbacks, steps, items): " + (f.Status || ""));
    cell.appendChild(b);
    if (f.Failed && f.Failed.ID !== id) cell.appendChild(el("span", { class: "at", title: failedText(f) }, "at " + clip(f.Failed.Task || f.Failed.Kind, 24)));
  }

  function applySearch() {
    const needle = $("search").value.trim().toLowerCase();
    for (const tr of $("list-body").children) {
      tr.hidden = needle !== "" && !(tr.dataset.search || "").includes(needle);
    }
  }

  async function loadTasks() {
    try {
      const tasks = await getJSON("/api/tasks");
      const sel = $("filter-task");
      if (sel.tagName !== "SELECT") return;
      const keep = sel.value;
      const opts = [el("option", { value: "" }, "any")];
      const names = new Set();
      for (const t of tasks || []) {
        names.add(t.Name);
        opts.push(el("option", { value: t.Name }, t.Name + (t.Signatures ? " (" + t.Signatures + ")" : "")));
      }
      for (const c of ["hatchetflow-chain", "hatchetflow-swarm"]) {
        if (!names.has(c)) opts.push(el("option", { value: c }, c.replace("hatchetflow-", "") + "s"));
      }
      sel.replaceChildren(...opts);
      sel.value = keep;
      setProblem("tasks", "");
    } catch (err) {
      // No registry to pick from: let the task be typed.
      const sel = $("filter-task");
      if (sel.tagName === "SELECT") {
        const input = el("input", { id: "filter-task", type: "text", placeholder: "task name", size: "14" });
        input.addEventListener("change", subscribeList);
        sel.replaceWith(input);
      }
      setProblem("tasks", err.message);
    }
  }

  // --- tree ------------------------------------------------------------------------

  function openTreeLink(id) {
    const h = "#/tree/" + encodeURIComponent(id);
    if (location.hash === h) openTree(id); else location.hash = h;
  }

  function treeFromHash() {
    const m = /^#\/tree\/(.+)$/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function openTree(id) {
    if (state.treeES) state.treeES.close();
    clearTimeout(state.treeRetry);
    if (id !== state.treeId) {
      state.selected = ""; state.tree = null; state.drawnId = ""; $("graph").replaceChildren(); showDetail(false);
      $("tree-flow").hidden = true; state.flowSeq++;
    }
    state.treeId = id;
    for (const tr of $("list-body").children) tr.classList.toggle("selected", tr.dataset.id === id);
    if (!id) return;
    $("tree-title").textContent = "loading " + id + "…";
    const es = new EventSource("/api/tree/" + encodeURIComponent(id) + "/events");
    state.treeES = es;
    es.addEventListener("tree", (e) => {
      state.tree = JSON.parse(e.data);
      setProblem("tree", "");
      renderTree();
      loadFlow(id);
    });
    es.addEventListener("problem", (e) => setProblem("tree", JSON.parse(e.data).error));
    es.onerror = () => {
      if (es !== state.treeES) return;
      if (es.readyState !== EventSource.CLOSED) { setProblem("tree", "reconnecting…"); return; }
      getJSON("/api/tree/" + encodeURIComponent(id)).then(() => {
        setProblem("tree", "stream closed; retrying");
        state.treeRetry = setTimeout(() => openTree(id), 3000);
      }, (err) => {
        setProblem("tree", err.message);
        if (!state.tree) $("tree-title").textContent = id + ": " + err.message;
        if (!/not found|invalid/i.test(err.message)) state.treeRetry = setTimeout(() => openTree(id), 5000);
      });
    };
  }

  // loadFlow reads the rolled-up status of the flow rooted at id (after each change of
  // its tree) into the tree's title line.
  async function loadFlow(id) {
    const seq = ++state.flowSeq;
    let f;
    try {
      f = await getJSON("/api/flow/" + encodeURIComponent(id));
      setProblem("flow", "");
    } catch (err) {
      if (seq === state.flowSeq) setProblem("flow", err.message);
      return;
    }
    if (seq !== state.flowSeq || id !== state.treeId) return; // a newer read or another tree
    renderFlow(f);
  }

  function renderFlow(f) {
    const box = $("tree-flow");
    box.dataset.flow = f.Status || "";
    const parts = [el("span", {}, "flow"), el("span", { class: "badge s-" + (f.Status || "pending") }, flowText(f))];
    const n = f.Failed;
    if (n) {
      const go = el("button", { type: "button", class: "link", "data-id": n.ID, title: n.Error || "" }, failedText(f));
      go.addEventListener("click", () => { if (state.nodes.has(n.ID)) selectNode(n.ID, true); });
      parts.push(go);
    }
    box.replaceChildren(...parts);
    box.hidden = false;
  }

  // --- graph: drawing ----------------------------------------------------------------

  // fit clips s to what a box of width px shows at about charPx a character.
  function fit(s, px, charPx) { return clip(s, Math.max(4, Math.floor(px / charPx))); }

  // textWithTail is an SVG text whose id end (tail) stands out.
  function textWithTail(attrs, s, t) {
    const text = svg("text", attrs);
    const at = t ? s.indexOf(t) : -1;
    if (at < 0) { text.textContent = s; return text; }
    text.append(s.slice(0, at), svg("tspan", { class: "tail" }, t), s.slice(at + t.length));
    return text;
  }

  function drawNode(lab) {
    const n = lab.data, i = lab.info || {};
    const st = n.more ? "more" : statusOf(n);
    const x = lab.x - lab.width / 2, y = lab.y - lab.height / 2, w = lab.width, h = lab.height;
    const grp = svg("g", { class: "node" + (n.more ? " more" : "") + (n.ID === state.selected ? " selected" : ""),
      "data-id": n.ID, "data-status": st, "data-kind": n.Kind || "", "data-box": lab.box || "node",
      transform: "translate(" + x + "," + y + ")" });
    const lines = hfGraph.lines(n, i);
    grp.appendChild(svg("title", {}, lines.filter(Boolean).join("\n") + "\n" + (n.Kind || "") + " " + n.ID));
    grp.appendChild(svg("rect", { class: "box", width: w, height: h, rx: 6, ry: 6 }));
    grp.appendChild(svg("rect", { class: "ring", x: -4, y: -4, width: w + 8, height: h + 8, rx: 9, ry: 9 }));
    const inner = w - 20;
    grp.appendChild(svg("text", { class: "t1", x: 10, y: 18 }, fit(lines[0], inner, 7.2)));
    if (n.Kind === "swarm" && !n.Missing && !n.more) {
      const p = hfGraph.swarmProgress(n);
      const bar = svg("g", { class: "progress", "data-done": p.done, "data-total": p.total, transform: "translate(10,27)" });
      bar.appendChild(svg("rect", { class: "bar-bg", width: inner, height: 7, rx: 3.5 }));
      if (p.total) {
        const dw = inner * p.done / p.total, fw = inner * p.failed / p.total;
        bar.appendChild(svg("rect", { class: "bar-done", width: dw, height: 7, rx: 3.5 }));
        if (fw) bar.appendChild(svg("rect", { class: "bar-failed", x: dw, width: fw, height: 7 }));
      }
      grp.appendChild(bar);
    } else if (lines[1]) {
      grp.appendChild(svg("text", { class: "t2", x: 10, y: 34 }, fit(lines[1], inner, 6.65)));
    }
    if (lines[2]) grp.appendChild(textWithTail({ class: "t3", x: 10, y: h - 9 }, fit(lines[2], inner, 6.2), tail(n.ID)));
    if (!n.more) grp.addEventListener("click", () => { if (!state.suppressClick) selectNode(n.ID, true); });
    return grp;
  }

  // drawContainer draws a chain's or a swarm's frame; a chain's title line (clickable:
  // it stands for the chain) runs along its top.
  function drawContainer(lab, info) {
    const n = lab.data;
    const x = lab.x - lab.width / 2, y = lab.y - lab.height / 2;
    const grp = svg("g", { class: "container", "data-id": n.ID, "data-kind": lab.container, "data-depth": lab.depth || 0 });
    grp.appendChild(svg("rect", { class: "frame", x: x, y: y, width: lab.width, height: lab.height, rx: 10, ry: 10 }));
    if (lab.container === "swarm") {
      grp.appendChild(svg("text", { class: "kind", x: x + 10, y: y + 17 }, "swarm"));
      return grp;
    }
    const st = statusOf(n);
    const title = svg("g", { class: "node title" + (n.ID === state.selected ? " selected" : ""), "data-id": n.ID,
      "data-status": st, "data-kind": "chain", "data-box": "title" });
    title.appendChild(svg("title", {}, "chain " + n.ID + " [" + st + "]"));
    title.appendChild(svg("rect", { class: "band", x: x + 4, y: y + 3, width: lab.width - 8, height: 22, rx: 6, ry: 6 }));
    title.appendChild(svg("circle", { class: "dot s-" + st, cx: x + 15, cy: y + 14, r: 5 }));
    title.appendChild(textWithTail({ x: x + 25, y: y + 18 }, fit(hfGraph.chainTitle(n, info), lab.width - 36, 6.9), tail(n.ID)));
    title.addEventListener("click", () => { if (!state.suppressClick) selectNode(n.ID, true); });
    grp.appendChild(title);
    return grp;
  }

  // edgePath is an edge as smooth curves through dagre's points, leaving the right side
  // of its source and entering the left side of its target; edges into and out of a
  // swarm start and end on the swarm's frame.
  function edgePath(g, e, lab) {
    const a = g.node(e.v), b = g.node(e.w);
    const frame = (n) => (n.box === "swarm" ? g.node("c:" + n.data.ID) : null);
    const fa = frame(a), fb = frame(b);
    const clampY = (y, f) => Math.min(Math.max(y, f.y - f.height / 2 + 34), f.y + f.height / 2 - 14);
    let pts = (lab.points || []).slice(1, -1);
    if (fa || fb) pts = [];
    const start = { x: (fa || a).x + (fa || a).width / 2, y: a.y };
    const end = { x: (fb || b).x - (fb || b).width / 2, y: b.y };
    if (fa) start.y = clampY(fb ? (fb.y - fb.height / 2 + 40) : b.y, fa);
    if (fb) end.y = clampY(fa ? start.y : a.y, fb);
    if (!fa && !fb && pts.length === 1) pts = []; // one rank apart: one curve
    const all = [start].concat(pts, [end]);
    let d = "M" + all[0].x.toFixed(1) + "," + all[0].y.toFixed(1);
    for (let k = 1; k < all.length; k++) {
      const p = all[k - 1], q = all[k], mx = (p.x + q.x) / 2;
      d += " C" + mx.toFixed(1) + "," + p.y.toFixed(1) + " " + mx.toFixed(1) + "," + q.y.toFixed(1) + " " + q.x.toFixed(1) + "," + q.y.toFixed(1);
    }
    return d;
  }

  function arrowMarkers() {
    const defs = svg("defs");
    const colors = { "step": "#5b6f8c", "on-success": "#27ae60", "on-error": "#eb5757", "finally": "#555" };
    for (const k of EDGE_KINDS) {
      const m = svg("marker", { id: "arrow-" + k, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      m.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: colors[k] }));
      defs.appendChild(m);
    }
    return defs;
  }

  function renderTree() {
    const root = state.tree;
    if (!root) return;
    if (typeof dagre === "undefined") { setProblem("page", "graph layout library did not load"); return; }
    const built = hfGraph.build(root);
    const g = built.g;
    state.info = built.info;
    state.nodes = new Map();
    for (const [id, i] of built.info) if (!i.n.more) state.nodes.set(id, i.n);
    state.items = built.items;
    const size = g.graph();
    state.size = { w: Math.max(size.width || 0, 50), h: Math.max(size.height || 0, 50) };
    const out = svg("svg", { role: "img", "aria-label": "tree of " + root.ID });
    out.appendChild(arrowMarkers());
    const view = svg("g", { class: "viewport" });
    const frames = svg("g", { class: "containers" });
    for (const key of built.clusters) frames.appendChild(drawContainer(g.node(key), built.info.get(g.node(key).data.ID)));
    const edges = svg("g", { class: "edges" });
    for (const e of g.edges()) {
      const lab = g.edge(e);
      if (lab.cls === "anchor") continue; // layout only
      const grp = svg("g", { class: "edge " + lab.cls, "data-from": e.v, "data-to": e.w });
      grp.appendChild(svg("title", {}, (lab.cls === "step" ? "next step" : lab.cls.replace("-", " ")) + ": " + tail(e.v) + " → " + tail(e.w)));
      grp.appendChild(svg("path", { d: edgePath(g, e, lab), "marker-end": "url(#arrow-" + lab.cls + ")" }));
      edges.appendChild(grp);
    }
    const nodes = svg("g", { class: "nodes" });
    for (const key of g.nodes()) {
      const lab = g.node(key);
      if (lab && lab.data && !lab.container) nodes.appendChild(drawNode(lab));
    }
    view.append(frames, edges, nodes);
    out.appendChild(view);
    const box = $("graph"), fresh = state.drawnId !== root.ID;
    box.replaceChildren(out);
    state.drawnId = root.ID;
    if (fresh) startView(g, root); else applyView();
    const title = $("tree-title");
    title.replaceChildren((root.Kind === "signature" ? root.Task || "signature" : root.Kind || "?") + " ", idSpan(root.ID, "id-full"),
      " · " + statusOf(root) + " · " + state.nodes.size + " nodes");
    title.title = (root.Kind || "") + " " + root.ID;
    if (state.wantSelect && state.nodes.has(state.wantSelect)) state.selected = state.wantSelect;
    state.wantSelect = "";
    if (!state.selected || !state.nodes.has(state.selected)) state.selected = root.ID;
    markSelected();
    renderDetail();
    state.treeVersion++;
    document.body.dataset.treeVersion = String(state.treeVersion);
  }

  // --- graph: zoom and pan -----------------------------------------------------------

  function applyView() {
    const v = state.view;
    const vp = $("graph").querySelector("g.viewport");
    if (vp) vp.setAttribute("transform", "translate(" + v.x.toFixed(1) + "," + v.y.toFixed(1) + ") scale(" + v.k.toFixed(4) + ")");
    $("zoom-level").textContent = Math.round(v.k * 100) + "%";
    $("graph").dataset.zoom = v.k.toFixed(3);
  }

  function fitZoom() {
    const box = $("graph");
    const w = box.clientWidth || 1, h = box.clientHeight || 1;
    return Math.min(w / state.size.w, h / state.size.h);
  }

  // fitView shows the whole tree, centered.
  function fitView() {
    const box = $("graph");
    const k = Math.min(Math.max(fitZoom(), MIN_ZOOM), 1.25);
    state.view = { k: k, x: (box.clientWidth - state.size.w * k) / 2, y: (box.clientHeight - state.size.h * k) / 2 };
    applyView();
  }

  // startView opens a new tree: all of it, centered, when it fits at START_ZOOM_MIN
  // or more (never above 100%); else at that zoom from its left edge, the root in view.
  function startView(g, root) {
    const box = $("graph");
    const fitK = fitZoom();
    if (fitK >= START_ZOOM_MIN) {
      state.view.k = Math.min(1, fitK);
      centerView();
      return;
    }
    const r = g.node(root.ID) || g.node("c:" + root.ID) || { y: state.size.h / 2 };
    const k = START_ZOOM_MIN, H = box.clientHeight;
    let y = H / 2 - r.y * k;
    y = Math.min(Math.max(y, H - state.size.h * k), 0); // no empty band above or below the tree
    if (state.size.h * k < H) y = (H - state.size.h * k) / 2;
    state.view = { k: k, x: 0, y: y };
    applyView();
  }

  function centerView() {
    const box = $("graph"), k = state.view.k;
    state.view.x = (box.clientWidth - state.size.w * k) / 2;
    state.view.y = (box.clientHeight - state.size.h * k) / 2;
    applyView();
  }

  function zoomAt(factor, cx, cy) {
    const v = state.view;
    const k = Math.min(Math.max(v.k * factor, MIN_ZOOM), MAX_ZOOM);
    v.x = cx - (cx - v.x) * (k / v.k);
    v.y = cy - (cy - v.y) * (k / v.k);
    v.k = k;
    applyView();
  }
  function zoomCenter(factor) {
    const box = $("graph");
    zoomAt(factor, box.clientWidth / 2, box.clientHeight / 2);
  }

  function setupPanZoom() {
    const box = $("graph");
    box.addEventListener("wheel", (e) => {
      if (!state.tree) return;
      e.preventDefault();
      const r = box.getBoundingClientRect();
      const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      zoomAt(Math.exp(-dy * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    let drag = null;
    box.addEventListener("pointerdown", (e) => {
      if (e.button !== 0 || !state.tree) return;
      drag = { id: e.pointerId, x: e.clientX, y: e.clientY, vx: state.view.x, vy: state.view.y, moved: false };
    });
    box.addEventListener("pointermove", (e) => {
      if (!drag || e.pointerId !== drag.id) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) return;
      if (!drag.moved) { drag.moved = true; box.setPointerCapture(e.pointerId); box.classList.add("panning"); }
      state.view.x = drag.vx + dx;
      state.view.y = drag.vy + dy;
      applyView();
    });
    const end = (e) => {
      if (!drag || e.pointerId !== drag.id) return;
      if (drag.moved) {
        state.suppressClick = true; // the click that ends a drag selects nothing
        setTimeout(() => { state.suppressClick = false; }, 0);
        box.classList.remove("panning");
        if (box.hasPointerCapture(e.pointerId)) box.releasePointerCapture(e.pointerId);
      }
      drag = null;
    };
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", end);
    box.addEventListener("keydown", (e) => {
      const step = 60;
      const keys = {
        "+": () => zoomCenter(1.2), "=": () => zoomCenter(1.2), "-": () => zoomCenter(1 / 1.2),
        "0": () => zoomAt(1 / state.view.k, box.clientWidth / 2, box.clientHeight / 2), "f": fitView,
        "ArrowLeft": () => { state.view.x += step; applyView(); }, "ArrowRight": () => { state.view.x -= step; applyView(); },
        "ArrowUp": () => { state.view.y += step; applyView(); }, "ArrowDown": () => { state.view.y -= step; applyView(); },
      };
      if (keys[e.key] && state.tree) { e.preventDefault(); keys[e.key](); }
    });
    $("zoom-in").addEventListener("click", () => zoomCenter(1.25));
    $("zoom-out").addEventListener("click", () => zoomCenter(1 / 1.25));
    $("zoom-reset").addEventListener("click", () => zoomAt(1 / state.view.k, box.clientWidth / 2, box.clientHeight / 2));
    $("zoom-fit").addEventListener("click", () => { if (state.tree) fitView(); });
  }

  // --- detail panel ---------------------------------------------------------------

  function panelOpen() { return document.body.dataset.panel !== "closed"; }

  function setPanel(open) {
    document.body.dataset.panel = open ? "open" : "closed";
    const t = $("panel-toggle");
    t.textContent = open ? "details ▸" : "◂ details";
    t.setAttribute("aria-expanded", open ? "true" : "false");
    try { localStorage.setItem("hatchetflow.panel", open ? "open" : "closed"); } catch (_) { /* private mode */ }
  }

  // showDetail shows or hides the panel's content (hidden when nothing is selected);
  // the graph takes the room either way.
  function showDetail(on) {
    $("detail").hidden = !on;
    $("tree-body").classList.toggle("no-detail", !on);
    if (!on) { clearTimeout(state.logsTimer); state.detailKey = ""; state.logsKey = ""; }
  }

  function markSelected() {
    for (const g of $("graph").querySelectorAll("g.node")) g.classList.toggle("selected", g.dataset.id === state.selected);
  }

  // selectNode shows id in the detail panel; byUser opens the panel when it was closed.
  function selectNode(id, byUser) {
    state.selected = id;
    markSelected();
    if (byUser && !panelOpen()) setPanel(true);
    renderDetail();
  }

  function renderDetail() {
    const n = state.nodes.get(state.selected);
    const panel = $("detail");
    if (!n) { showDetail(false); return; }
    showDetail(true);
    panel.dataset.id = n.ID;
    panel.dataset.status = statusOf(n);
    const i = state.info.get(n.ID) || {};
    $("detail-title").textContent = (i.prefix || "") + (n.Missing ? "missing node" : (n.Kind === "signature" ? n.Task : n.Kind) || "node") + " " + tail(n.ID);
    const set = (f, v) => { panel.querySelector('[data-field="' + f + '"]').textContent = v; };
    set("id", n.ID);
    set("kind", n.Kind || "—");
    set("task", n.Task || "—");
    set("status", statusOf(n));
    set("runId", n.RunID || "—");
    set("attempt", n.Attempt ? String(n.Attempt) : "—");
    set("created", fmtTime(n.CreatedAt));
    set("started", n.StartedAt ? fmtTime(n.StartedAt) : "–");
    set("ended", n.EndedAt ? fmtTime(n.EndedAt) + (n.StartedAt ? " (took " + fmtDuration(new Date(n.EndedAt) - new Date(n.StartedAt)) + ")" : "") : "–");
    set("kwargs", pretty(n.Kwargs));
    set("result", pretty(n.Result));
    set("error", n.Error || "—");
    const link = $("run-link");
    link.hidden = !(/^https?:\/\//i.test(state.config.runURL || "") && n.RunID);
    if (!link.hidden) link.href = state.config.runURL + encodeURIComponent(n.RunID);
    const actions = $("actions");
    actions.hidden = !state.config.actions || !!n.Missing;
    const st = statusOf(n);
    $("action-cancel").disabled = !["pending", "active", "suspended"].includes(st);
    $("action-suspend").disabled = !["pending", "active"].includes(st);
    $("action-resume").disabled = st !== "suspended";
    // Retry: a failed or cancelled signature or chain, a failed swarm (its failed items
    // run again); not a cancelled swarm or a swarm's item (retry its swarm).
    const retryable = (n.Kind === "swarm" ? st === "failed" : ["failed", "cancelled"].includes(st)) && !state.items.has(n.ID);
    $("action-retry").disabled = !retryable;
    $("action-retry-kwargs").disabled = !retryable;
    // The input and the logs are read again when the node changes (a new attempt, an end).
    const key = n.ID + "|" + st + "|" + (n.Attempt || 0) + "|" + (n.RunID || "");
    if (key !== state.detailKey) {
      const sameNode = state.detailKey.split("|")[0] === n.ID;
      state.detailKey = key;
      if (!sameNode) set("input", "…");
      loadRecord(n);
      loadLogs(n, !sameNode);
    }
  }

  // loadRecord reads what the panel shows beyond the tree: the input the node's run
  // was dispatched with.
  async function loadRecord(n) {
    const seq = ++state.recordSeq;
    const field = $("detail").querySelector('[data-field="input"]');
    if (n.Missing) { field.textContent = "—"; return; }
    try {
      const r = await getJSON("/api/record/" + encodeURIComponent(n.ID));
      if (seq !== state.recordSeq) return;
      field.textContent = r && r.Input !== undefined ? pretty(r.Input) : "—";
    } catch (err) {
      if (seq === state.recordSeq) field.textContent = err.status === 404 ? "— (gone)" : "? " + err.message;
    }
  }

  // loadLogs reads the node's run's Hatchet logs (through the server) into the panel,
  // again every few seconds while it runs.
  async function loadLogs(n, fresh) {
    clearTimeout(state.logsTimer);
    const seq = ++state.logsSeq;
    const body = $("logs-body"), msg = $("logs-note");
    if (fresh) { body.replaceChildren(); msg.textContent = "reading…"; }
    $("logs").dataset.state = "loading";
    if (n.Missing) { msg.textContent = "the record is gone"; $("logs").dataset.state = "none"; return; }
    let res;
    try {
      res = await getJSON("/api/logs/" + encodeURIComponent(n.ID));
    } catch (err) {
      if (seq !== state.logsSeq) return;
      body.replaceChildren();
      msg.textContent = err.status === 503 ? err.message : "could not read the logs: " + err.message;
      $("logs").dataset.state = "error";
      return;
    }
    if (seq !== state.logsSeq) return;
    const lines = res.Lines || [];
    if (!res.RunID) {
      msg.textContent = n.Kind === "chain" ? "a chain runs as its steps: select a step" : "no run yet";
    } else {
      msg.textContent = lines.length ? lines.length + " line" + (lines.length === 1 ? "" : "s") + (res.Truncated ? " (the latest)" : "")
        : "no log lines";
    }
    body.replaceChildren(...lines.map((l) => {
      const d = new Date(l.Time);
      const ts = isNaN(d.getTime()) ? "" : pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
      const row = el("div", { class: "lvl-" + (l.Level || "INFO") });
      row.append(el("span", { class: "ts" }, ts + " "), (l.Level || "INFO").padEnd(5) + " " +
        (l.Attempt > 1 ? "[attempt " + l.Attempt + "] " : "") + (l.Task && !l.Task.startsWith(n.Task || "\u0000") ? "[" + l.Task + "] " : "") + l.Message);
      return row;
    }));
    $("logs").dataset.state = "loaded";
    $("logs").dataset.lines = String(lines.length);
    if (statusOf(n) === "active") {
      state.logsTimer = setTimeout(() => { const m = state.nodes.get(state.selected); if (m && m.ID === n.ID) loadLogs(m, false); }, 3000);
    }
  }

  // --- actions -------------------------------------------------------------------

  async function act(action) {
    const id = state.selected;
    if (!id || !state.config.actions) return;
    const body = {};
    if (action === "cancel" && $("action-silent").checked) body.silent = true;
    if (action === "suspend" && $("action-cancel-running").checked) body.cancelRunning = true;
    if (action === "retry" && $("action-retry-kwargs").value.trim()) {
      let kw = null;
      try { kw = JSON.parse($("action-retry-kwargs").value); } catch (_) { /* reported below */ }
      if (!kw || typeof kw !== "object" || Array.isArray(kw)) {
        setProblem("action", "retry " + tail(id) + ': kwargs must be a JSON object, like {"n": 3}');
        return;
      }
      body.kwargs = kw;
    }
    const buttons = $("actions").querySelectorAll("button");
    buttons.forEach((b) => { b.dataset.wasDisabled = b.disabled ? "1" : ""; b.disabled = true; });
    note(action + " " + tail(id) + "…");
    try {
      const r = await fetch("/api/tree/" + encodeURIComponent(id) + "/" + action, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Hatchetflow-CSRF": state.config.csrf },
        body: JSON.stringify(body),
      });
      let res = null;
      try { res = await r.json(); } catch (_) { /* not JSON */ }
      if (!r.ok) throw new Error((res && res.error) || r.status + " " + r.statusText);
      setProblem("action", "");
      note(action + " " + tail(id) + ": done");
      if (action === "retry") $("action-retry-kwargs").value = "";
    } catch (err) {
      note("");
      setProblem("action", action + " " + tail(id) + ": " + err.message);
    } finally {
      buttons.forEach((b) => { b.disabled = b.dataset.wasDisabled === "1"; });
      renderDetail();
    }
  }

  // --- start -----------------------------------------------------------------------

  async function start() {
    try {
      state.config = await getJSON("/api/config");
    } catch (err) {
      setProblem("config", err.message);
    }
    $("mode").textContent = state.config.actions ? "actions enabled" : "read-only";
    document.body.dataset.actions = state.config.actions ? "1" : "0";
    let saved = null;
    try { saved = localStorage.getItem("hatchetflow.panel"); } catch (_) { /* private mode */ }
    setPanel(saved !== "closed");
    for (const id of ["filter-status", "filter-since", "filter-roots"]) $(id).addEventListener("change", subscribeList);
    $("filter-task").addEventListener("change", subscribeList);
    $("search").addEventListener("input", applySearch);
    $("search").addEventListener("keydown", (e) => {
      const v = $("search").value.trim();
      if (e.key === "Enter" && UUID_RE.test(v)) openTreeLink(v.toLowerCase());
    });
    $("list-more").addEventListener("click", loadMore);
    $("panel-toggle").addEventListener("click", () => setPanel(!panelOpen()));
    $("detail-close").addEventListener("click", () => setPanel(false));
    $("detail").querySelector('button.copy[data-copy="id"]').addEventListener("click", (e) => {
      const shown = $("detail").querySelector('[data-field="id"]');
      copyText(shown.textContent, shown, e.currentTarget);
    });
    $("logs-refresh").addEventListener("click", () => { const n = state.nodes.get(state.selected); if (n) loadLogs(n, false); });
    $("action-cancel").addEventListener("click", () => act("cancel"));
    $("action-suspend").addEventListener("click", () => act("suspend"));
    $("action-resume").addEventListener("click", () => act("resume"));
    $("action-retry").addEventListener("click", () => act("retry"));
    setupPanZoom();
    window.addEventListener("hashchange", () => openTree(treeFromHash()));
    await loadTasks();
    subscribeList();
    const id = treeFromHash();
    if (id) openTree(id);
  }

  start();
})();
