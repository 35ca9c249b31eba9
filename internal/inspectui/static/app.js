// The hatchetflow inspector page: a live list of signatures on the left, the live
// graph of the selected tree on the right (laid out by the vendored dagre, drawn as
// SVG here), and a detail panel with the lifecycle actions (cancel, suspend, resume,
// retry) when the server allows them. Roots show their whole flow's rolled-up status.
// No build step; everything the page needs is served by the Go server.
(function () {
  "use strict";

  const PAGE_SIZE = 50;
  const MAX_ITEMS = 100; // swarm items drawn; the rest become one "+N more" node
  const NODE_W = 210;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  const state = {
    config: { actions: false, csrf: "" },
    listES: null, listRetry: 0, live: [], extra: [], next: "",
    treeES: null, treeRetry: 0, treeId: "", tree: null, nodes: new Map(), selected: "",
    treeVersion: 0, drawnId: "", items: new Set(), wantSelect: "", flowSeq: 0,
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

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    let body = null;
    try { body = await r.json(); } catch (_) { /* not JSON */ }
    if (!r.ok) throw new Error((body && body.error) || r.status + " " + r.statusText);
    return body;
  }

  // --- formatting ------------------------------------------------------------------

  function fmtDuration(ms) {
    if (!(ms >= 0)) return "?";
    if (ms < 1000) return ms + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    return Math.round(ms / 60000) + " min";
  }

  function fmtTime(s) {
    const d = new Date(s);
    if (!s || isNaN(d.getTime()) || d.getFullYear() < 1971) return "—";
    const p = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " +
      p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function clip(s, n) { s = String(s || ""); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function short(id) { return String(id || "").slice(0, 8); }
  function statusOf(n) { return n.Missing ? "missing" : (n.Status || "pending"); }
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

  function renderList() {
    const seen = new Set();
    const rows = [];
    for (const s of state.live.concat(state.extra)) {
      if (!seen.has(s.ID)) { seen.add(s.ID); rows.push(s); }
    }
    const body = $("list-body");
    const trs = rows.map((s) => {
      const tr = el("tr", { "data-id": s.ID, "data-status": s.Status || "", "data-task": s.Task || "" });
      if (s.ID === state.treeId) tr.className = "selected";
      const st = el("td");
      st.appendChild(el("span", { class: "badge s-" + (s.Status || "pending") }, s.Status || "?"));
      const flow = flowCell(s.Flow, s.ID);
      tr.dataset.flow = flow.dataset.flow;
      tr.append(st, flow, el("td", {}, clip(s.Task, 40)), el("td", {}, s.Kind || ""),
        el("td", {}, fmtTime(s.CreatedAt)), el("td", { class: "id", title: s.ID }, s.ID));
      if (s.Error) tr.title = s.Error;
      tr.addEventListener("click", () => {
        // A failed flow opens on the node that failed, where Retry is.
        state.wantSelect = s.Flow && s.Flow.Failed ? s.Flow.Failed.ID : "";
        openTreeLink(s.ID);
      });
      return tr;
    });
    body.replaceChildren(...trs);
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
    return "first " + n.Status + ": " + (n.Task || n.Kind) + " " + short(n.ID) + (n.Error ? ": " + clip(n.Error, 200) : "");
  }

  // flowCell is the list's flow column: a root's rolled-up status (and the task that
  // failed, when not the root's), empty for the rest.
  function flowCell(f, id) {
    const td = el("td", { class: "flow" });
    td.dataset.flow = !f ? "" : f.Missing ? "missing" : f.Problem ? "unknown" : (f.Status || "");
    if (!f) return td;
    const status = f.Missing ? "missing" : f.Problem ? "pending" : (f.Status || "pending");
    const b = el("span", { class: "badge s-" + status }, flowText(f));
    b.title = f.Problem ? "flow not readable: " + f.Problem : (failedText(f) || "whole flow " + (f.Status || ""));
    td.appendChild(b);
    if (f.Failed && f.Failed.ID !== id) td.appendChild(el("span", { class: "muted" }, " at " + clip(f.Failed.Task || f.Failed.Kind, 24)));
    return td;
  }

  function applySearch() {
    const needle = $("search").value.trim().toLowerCase();
    for (const tr of $("list-body").children) {
      const hay = (tr.dataset.id + " " + tr.dataset.task).toLowerCase();
      tr.hidden = needle !== "" && !hay.includes(needle);
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
      state.selected = ""; state.tree = null; state.drawnId = ""; $("graph").replaceChildren(); $("detail").hidden = true;
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
      go.addEventListener("click", () => { if (state.nodes.has(n.ID)) selectNode(n.ID); });
      parts.push(go);
    }
    box.replaceChildren(...parts);
    box.hidden = false;
  }

  function swarmProgress(n) {
    const items = n.Items || [];
    const count = (s) => items.filter((i) => i && statusOf(i) === s).length;
    return { total: items.length, done: count("done"), failed: count("failed") + count("cancelled"), active: count("active") };
  }

  function nodeLines(n) {
    if (n.more) return ["+" + n.more + " more items", "not drawn"];
    if (n.Missing) return ["missing", short(n.ID) + " · expired or deleted"];
    const st = statusOf(n);
    if (n.Kind === "swarm") {
      const p = swarmProgress(n);
      let t = "swarm " + p.done + "/" + p.total + " done";
      if (p.failed) t += ", " + p.failed + " failed";
      return [t, st + " · " + short(n.ID)];
    }
    if (n.Kind === "chain") {
      return ["chain (" + (n.Steps || []).length + " steps)", st + " · " + short(n.ID)];
    }
    let sub = st + " · " + short(n.ID);
    if (n.Attempt > 1) sub += " · attempt " + n.Attempt;
    return [clip(n.Task, 30), sub];
  }

  // buildGraph lays out root's tree with dagre: nodes keyed by id (a node reached twice
  // is drawn once), edges for chain steps, swarm items and callbacks.
  function buildGraph(root) {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 70, edgesep: 8, marginx: 12, marginy: 12 });
    const nodes = new Map();
    const items = new Set(); // swarm items and their chains' steps: Retry refuses them
    let edgeN = 0;
    const edge = (from, to, cls, label) => {
      g.setEdge(from, to, { cls: cls, label: label, width: label ? label.length * 5.5 : 0, height: label ? 12 : 0, labelpos: "c" }, "e" + (edgeN++));
    };
    const visit = (n, inItem) => {
      if (!n || nodes.has(n.ID)) return;
      nodes.set(n.ID, n);
      if (inItem) items.add(n.ID);
      g.setNode(n.ID, { width: NODE_W, height: n.Kind === "swarm" ? 60 : 44, data: n });
      (n.Steps || []).forEach((s, i) => {
        if (!s) return;
        visit(s, inItem);
        edge(i === 0 ? n.ID : n.Steps[i - 1].ID, s.ID, "step", i === 0 ? "step 1" : "then");
      });
      const kids = n.Items || [];
      // Siblings are added last first: dagre then draws them first to last, top down.
      kids.slice(0, MAX_ITEMS).map((s, i) => [s, i]).reverse().forEach(([s, i]) => {
        if (!s) return;
        visit(s, true);
        edge(n.ID, s.ID, "item", kids.length <= 12 ? "item " + (i + 1) : "");
      });
      if (kids.length > MAX_ITEMS) {
        const id = "more:" + n.ID;
        const more = { ID: id, more: kids.length - MAX_ITEMS, Status: "pending" };
        nodes.set(id, more);
        g.setNode(id, { width: NODE_W, height: 44, data: more });
        edge(n.ID, id, "item", "");
      }
      for (const cb of (n.Finally || []).slice().reverse()) { if (cb) { visit(cb); edge(n.ID, cb.ID, "finally", "finally"); } }
      for (const cb of (n.OnError || []).slice().reverse()) { if (cb) { visit(cb); edge(n.ID, cb.ID, "on-error", "on error"); } }
      for (const cb of (n.OnSuccess || []).slice().reverse()) { if (cb) { visit(cb); edge(n.ID, cb.ID, "on-success", "on success"); } }
    };
    visit(root, false);
    dagre.layout(g);
    return { g: g, nodes: nodes, items: items };
  }

  function drawNode(n, pos) {
    const st = n.more ? "more" : statusOf(n);
    const grp = svg("g", { class: "node" + (n.more ? " more" : "") + (n.ID === state.selected ? " selected" : ""),
      "data-id": n.ID, "data-status": st, "data-kind": n.Kind || "",
      transform: "translate(" + (pos.x - pos.width / 2) + "," + (pos.y - pos.height / 2) + ")" });
    grp.appendChild(svg("title", {}, (n.Kind || "") + " " + n.ID + " [" + st + "]" + (n.Task ? " " + n.Task : "")));
    grp.appendChild(svg("rect", { class: "box", width: pos.width, height: pos.height, rx: 6, ry: 6 }));
    const lines = nodeLines(n);
    grp.appendChild(svg("text", { x: 10, y: 18 }, lines[0]));
    grp.appendChild(svg("text", { class: "sub", x: 10, y: 34 }, lines[1]));
    if (n.Kind === "swarm" && !n.Missing) {
      const p = swarmProgress(n), w = pos.width - 20;
      const bar = svg("g", { class: "progress", "data-done": p.done, "data-total": p.total, transform: "translate(10,44)" });
      bar.appendChild(svg("rect", { class: "bar-bg", width: w, height: 6, rx: 3 }));
      if (p.total) {
        const dw = w * p.done / p.total, fw = w * p.failed / p.total;
        bar.appendChild(svg("rect", { class: "bar-done", width: dw, height: 6, rx: 3 }));
        if (fw) bar.appendChild(svg("rect", { class: "bar-failed", x: dw, width: fw, height: 6 }));
      }
      grp.appendChild(bar);
    }
    if (!n.more) grp.addEventListener("click", () => selectNode(n.ID));
    return grp;
  }

  function renderTree() {
    const root = state.tree;
    if (!root) return;
    if (typeof dagre === "undefined") { setProblem("page", "graph layout library did not load"); return; }
    const built = buildGraph(root);
    state.nodes = built.nodes;
    state.items = built.items;
    const g = built.g, size = g.graph();
    const W = Math.max(size.width || 0, 50), H = Math.max(size.height || 0, 50);
    // viewBox + CSS max-width: a wide tree shrinks to fit the pane (down to 80%).
    const out = svg("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
    out.style.minWidth = Math.round(W * 0.8) + "px"; // shrink at most to 80%, then scroll
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.appendChild(svg("path", { class: "arrow", d: "M0,0 L10,5 L0,10 z" }));
    defs.appendChild(marker);
    out.appendChild(defs);
    const edges = svg("g", { class: "edges" });
    for (const e of g.edges()) {
      const lab = g.edge(e);
      const grp = svg("g", { class: "edge " + lab.cls, "data-from": e.v, "data-to": e.w });
      const d = (lab.points || []).map((p, i) => (i ? "L" : "M") + p.x.toFixed(1) + "," + p.y.toFixed(1)).join(" ");
      grp.appendChild(svg("path", { d: d, "marker-end": "url(#arrow)" }));
      if (lab.label && lab.x !== undefined) grp.appendChild(svg("text", { x: lab.x, y: lab.y + 4, "text-anchor": "middle" }, lab.label));
      edges.appendChild(grp);
    }
    out.appendChild(edges);
    const nodes = svg("g", { class: "nodes" });
    for (const id of g.nodes()) {
      const pos = g.node(id);
      if (pos && pos.data) nodes.appendChild(drawNode(pos.data, pos));
    }
    out.appendChild(nodes);
    const box = $("graph"), fresh = state.drawnId !== root.ID;
    box.replaceChildren(out);
    state.drawnId = root.ID;
    if (fresh) { // a new tree: bring its root into view
      const r = g.node(root.ID);
      box.scrollLeft = 0;
      box.scrollTop = r ? Math.max(0, r.y - box.clientHeight / 2) : 0;
    }
    $("tree-title").textContent = (root.Kind || "") + " " + root.ID + " · " + statusOf(root) +
      (root.Task && root.Kind === "signature" ? " · " + root.Task : "") + " · " + state.nodes.size + " nodes";
    if (state.wantSelect && state.nodes.has(state.wantSelect)) {
      state.selected = state.wantSelect;
      for (const g of $("graph").querySelectorAll("g.node")) g.classList.toggle("selected", g.dataset.id === state.selected);
    }
    state.wantSelect = "";
    if (!state.selected || !state.nodes.has(state.selected) || state.nodes.get(state.selected).more) state.selected = root.ID;
    renderDetail();
    state.treeVersion++;
    document.body.dataset.treeVersion = String(state.treeVersion);
  }

  // --- detail and actions ----------------------------------------------------------

  function selectNode(id) {
    state.selected = id;
    for (const g of $("graph").querySelectorAll("g.node")) g.classList.toggle("selected", g.dataset.id === id);
    renderDetail();
  }

  function renderDetail() {
    const n = state.nodes.get(state.selected);
    const panel = $("detail");
    if (!n) { panel.hidden = true; return; }
    panel.hidden = false;
    panel.dataset.id = n.ID;
    panel.dataset.status = statusOf(n);
    $("detail-title").textContent = (n.Missing ? "missing node" : (n.Kind || "node")) + " " + short(n.ID);
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
    const actions = $("actions");
    actions.hidden = !state.config.actions || !!n.Missing;
    const st = statusOf(n);
    $("action-cancel").disabled = !["pending", "active", "suspended"].includes(st);
    $("action-suspend").disabled = !["pending", "active"].includes(st);
    $("action-resume").disabled = st !== "suspended";
    // Retry: a failed or cancelled signature or chain, not a swarm or a swarm's item.
    const retryable = ["failed", "cancelled"].includes(st) && n.Kind !== "swarm" && !state.items.has(n.ID);
    $("action-retry").disabled = !retryable;
    $("action-retry-kwargs").disabled = !retryable;
  }

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
        setProblem("action", "retry " + short(id) + ': kwargs must be a JSON object, like {"n": 3}');
        return;
      }
      body.kwargs = kw;
    }
    const buttons = $("actions").querySelectorAll("button");
    buttons.forEach((b) => { b.dataset.wasDisabled = b.disabled ? "1" : ""; b.disabled = true; });
    note(action + " " + short(id) + "…");
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
      note(action + " " + short(id) + ": done");
      if (action === "retry") $("action-retry-kwargs").value = "";
    } catch (err) {
      note("");
      setProblem("action", action + " " + short(id) + ": " + err.message);
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
    for (const id of ["filter-status", "filter-since", "filter-roots"]) $(id).addEventListener("change", subscribeList);
    $("filter-task").addEventListener("change", subscribeList);
    $("search").addEventListener("input", applySearch);
    $("search").addEventListener("keydown", (e) => {
      const v = $("search").value.trim();
      if (e.key === "Enter" && UUID_RE.test(v)) openTreeLink(v.toLowerCase());
    });
    $("list-more").addEventListener("click", loadMore);
    $("action-cancel").addEventListener("click", () => act("cancel"));
    $("action-suspend").addEventListener("click", () => act("suspend"));
    $("action-resume").addEventListener("click", () => act("resume"));
    $("action-retry").addEventListener("click", () => act("retry"));
    window.addEventListener("hashchange", () => openTree(treeFromHash()));
    await loadTasks();
    subscribeList();
    const id = treeFromHash();
    if (id) openTree(id);
  }

  start();
})();
