// The layout of one hatchetflow tree for the inspector page: which boxes there are,
// what they say, and where the vendored dagre puts them. app.js draws the result as
// SVG. No DOM here: this file defines the global hfGraph and nothing else.
//
// Chains and swarms are drawn as containers (dagre's compound graphs): a chain holds
// its steps left to right (1 → 2 → 3, an arrow between consecutive steps), a swarm
// holds a header node (its progress) over its items 1..n, top down, with no edges
// between them. An edge into a chain goes to its first step, an edge out of it leaves
// from its last step; edges into and out of a swarm use its header. Callbacks are
// drawn outside the container of the node they belong to, with an edge colored by
// branch (on success, on error, finally).
var hfGraph = (function () {
  "use strict";

  const MAX_ITEMS = 100; // swarm items drawn; the rest become one "+N more" node
  const NODE_W = 172;
  const NODE_H = 58;
  const MORE_H = 40;

  // idTail is the end of an id, which tells UUIDv7 ids apart (their start is the
  // time they were made, shared by everything made in the same moment).
  function idTail(id) {
    const s = String(id || "").replace(/-/g, "");
    return s ? "…" + s.slice(-6) : "";
  }

  function clip(s, n) {
    s = String(s === undefined || s === null ? "" : s);
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  }

  // valueText is v as compact one-line JSON ("" for none).
  function valueText(v) {
    if (v === undefined || v === null) return "";
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v !== "object") return String(v);
    if (Object.keys(v).length === 0) return "";
    try { return JSON.stringify(v); } catch (_) { return "?"; }
  }

  // kwargsText is bound kwargs as "k=v, k2=v2".
  function kwargsText(kw) {
    if (!kw || typeof kw !== "object") return "";
    return Object.keys(kw).map((k) => k + "=" + (valueText(kw[k]) || "null")).join(", ");
  }

  function statusOf(n) { return n.Missing ? "missing" : (n.Status || "pending"); }

  function swarmProgress(n) {
    const items = n.Items || [];
    const count = (s) => items.filter((i) => i && statusOf(i) === s).length;
    return { total: items.length, done: count("done"), failed: count("failed") + count("cancelled"), active: count("active") };
  }

  // lines returns the three text lines of a node box: what it is (its place in its
  // chain or swarm and its task), what it ran with and gave (its kwargs, the result or
  // the error), and the end of its id with its status.
  function lines(n, info) {
    const prefix = (info && info.prefix) || "";
    if (n.more) return ["+" + n.more + " more items", "not drawn", ""];
    const tail = idTail(n.ID);
    if (n.Missing) return [prefix + "missing", "expired or deleted", tail];
    const st = statusOf(n);
    if (n.Kind === "swarm") {
      const p = swarmProgress(n);
      let l3 = p.done + "/" + p.total + " done";
      if (p.failed) l3 += ", " + p.failed + " failed";
      return [prefix + "swarm · " + p.total + " item" + (p.total === 1 ? "" : "s"), "", tail + " · " + l3];
    }
    if (n.Kind === "chain") {
      const steps = (n.Steps || []).length;
      return [prefix + "chain · " + steps + " step" + (steps === 1 ? "" : "s"), kwargsText(n.Kwargs), tail + " · " + st];
    }
    let l2 = kwargsText(n.Kwargs);
    if (n.Error && (st === "failed" || st === "cancelled")) {
      l2 = "✗ " + n.Error;
    } else {
      const r = valueText(n.Result);
      if (r) l2 = (l2 ? l2 + " " : "") + "→ " + r;
    }
    let l3 = tail + " · " + st;
    if (n.Attempt > 1) l3 += " · attempt " + n.Attempt;
    return [prefix + (n.Task || n.Kind || "?"), l2, l3];
  }

  // chainTitle is the one line over a chain's container.
  function chainTitle(n, info) {
    const steps = (n.Steps || []).length;
    return ((info && info.prefix) || "") + "chain " + idTail(n.ID) + " · " + steps + " step" + (steps === 1 ? "" : "s") +
      " · " + statusOf(n);
  }

  // build lays root's tree out with dagre (the global the vendored dagre.min.js
  // defines) and returns:
  //   g:        the laid-out graph; a node's label has data (the tree node), info and
  //             box ("node", "swarm" for a swarm's header, "more"); a container's
  //             (key "c:" + id) has container ("chain" or "swarm") and data
  //   info:     Map id -> {n, prefix, role, key, cluster, depth}: every drawn tree node
  //             (role "node", "chain" or "swarm"; key its graph node, "" for a chain
  //             drawn as a container; cluster its container's key)
  //   items:    Set of ids of swarm items and their steps (Retry refuses them)
  //   clusters: container keys, outermost first
  function build(root) {
    const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
    // edgesep also pads containers (their borders are dummy nodes): room for a chain's title.
    g.setGraph({ rankdir: "LR", nodesep: 12, ranksep: 30, edgesep: 28, align: "UL", marginx: 16, marginy: 16 });
    const info = new Map();
    const items = new Set();
    const clusters = [];
    let edgeN = 0;
    const edge = (from, to, cls) => {
      if (from && to && from !== to) g.setEdge(from, to, { cls: cls, width: 0, height: 0 }, "e" + (edgeN++));
    };
    // link draws an edge out of src into dst (what place returned). Into a swarm it
    // also adds edges that are not drawn (class "anchor") to each item, which keep the
    // items in the column of the swarm's header and what leads into the swarm level
    // with them; out of a swarm, the same from each item.
    const link = (src, dst, cls) => {
      edge(src.exit, dst.entry, cls);
      for (const a of dst.anchors) edge(src.exit, a, "anchor");
      for (const a of src.exitAnchors) edge(a, dst.entry, "anchor");
    };
    const leaf = (key, n, i, parent, box, h) => {
      g.setNode(key, { width: NODE_W, height: h || NODE_H, data: n, info: i, box: box });
      if (parent) g.setParent(key, parent);
    };
    const container = (n, kind, parent, depth) => {
      const key = "c:" + n.ID;
      g.setNode(key, { container: kind, data: n, depth: depth });
      if (parent) g.setParent(key, parent);
      clusters.push(key);
      return key;
    };

    // place adds n and what is under it inside container parent and returns the
    // graph nodes an edge into it and out of it attach to.
    const place = (n, parent, prefix, inItem, depth) => {
      if (!n) return null;
      const seen = info.get(n.ID);
      if (seen) return seen; // reached twice: drawn once
      const i = { n: n, prefix: prefix, role: "node", key: n.ID, cluster: parent, depth: depth, entry: n.ID, exit: n.ID, anchors: [], exitAnchors: [] };
      info.set(n.ID, i);
      if (inItem) items.add(n.ID);
      const steps = (n.Steps || []).filter(Boolean);
      if (!n.Missing && n.Kind === "chain" && steps.some((s) => !info.has(s.ID))) {
        const key = container(n, "chain", parent, depth);
        i.role = "chain"; i.key = ""; i.container = key;
        let first = null, prev = null;
        steps.forEach((s, k) => {
          const p = place(s, key, (k + 1) + ". ", inItem, depth + 1);
          if (!p) return;
          if (prev) link(prev, p, "step"); else first = p;
          prev = p;
        });
        i.entry = first.entry; i.exit = prev.exit; i.anchors = first.anchors; i.exitAnchors = prev.exitAnchors;
      } else if (!n.Missing && n.Kind === "swarm") {
        const key = container(n, "swarm", parent, depth);
        i.role = "swarm"; i.container = key;
        leaf(n.ID, n, i, key, "swarm");
        const kids = n.Items || [];
        kids.slice(0, MAX_ITEMS).forEach((s, k) => {
          const p = place(s, key, "#" + (k + 1) + " ", true, depth + 1);
          if (!p) return;
          i.anchors.push(p.entry, ...p.anchors);
          i.exitAnchors.push(p.exit, ...p.exitAnchors);
        });
        if (kids.length > MAX_ITEMS) {
          const more = { ID: "more:" + n.ID, more: kids.length - MAX_ITEMS, Status: "pending" };
          const mi = { n: more, prefix: "", role: "node", key: more.ID, cluster: key, depth: depth + 1, entry: more.ID, exit: more.ID, anchors: [], exitAnchors: [] };
          info.set(more.ID, mi);
          i.anchors.push(more.ID);
          i.exitAnchors.push(more.ID);
          leaf(more.ID, more, mi, key, "more", MORE_H);
        }
      } else {
        leaf(n.ID, n, i, parent, "node");
      }
      // Callbacks go in last first: dagre then stacks them first to last, top down.
      for (const [list, cls] of [[n.Finally, "finally"], [n.OnError, "on-error"], [n.OnSuccess, "on-success"]]) {
        for (const cb of (list || []).slice().reverse()) {
          const p = place(cb, null, "", false, 0);
          if (p) link(i, p, cls);
        }
      }
      return i;
    };
    place(root, null, "", false, 0);
    dagre.layout(g);
    keepItemOrder(g, info, clusters);
    return { g: g, info: info, items: items, clusters: clusters };
  }

  // keepItemOrder makes sure a swarm's items read 1..n top down. Dagre keeps the
  // order of items that are plain boxes, but an item that is a container (or has
  // callbacks) can be pulled out of place: then the items' blocks (an item and all it
  // contains) are stacked again in order, the swarm grows when they need more room
  // (pushing what is below it down), and the edges that touch a moved box are redrawn.
  function keepItemOrder(g, info, clusters) {
    for (const key of clusters.slice().reverse()) { // inner swarms first
      const c = g.node(key);
      if (c.container !== "swarm") continue;
      const blocks = g.children(key).map((k) => blockOf(g, info, k)).filter((b) => b.item >= 0);
      const byTop = blocks.slice().sort((a, b) => a.top - b.top);
      const byItem = blocks.slice().sort((a, b) => a.item - b.item);
      if (byTop.every((b, j) => b === byItem[j])) continue;
      const moved = new Map(); // graph node -> dy
      const oldBottom = Math.max(...blocks.map((b) => b.bottom));
      let y = byTop[0].top;
      for (const b of byItem) {
        const dy = y - b.top;
        if (dy) for (const k of b.members) { g.node(k).y += dy; moved.set(k, dy); }
        y += b.bottom - b.top + 12;
      }
      const grow = y - 12 - oldBottom;
      let below = -Infinity;
      if (grow > 0) {
        below = oldBottom;
        const inside = new Set(descendants(g, key));
        const around = new Set();
        for (let p = key; p; p = g.parent(p)) around.add(p);
        for (const k of g.nodes()) {
          const n = g.node(k);
          if (around.has(k)) { n.height += grow; n.y += grow / 2; continue; }
          if (inside.has(k) || n.y - n.height / 2 < oldBottom - 1) continue;
          n.y += grow;
          moved.set(k, grow);
        }
        g.graph().height += grow;
      }
      for (const e of g.edges()) {
        const dv = moved.get(e.v) || 0, dw = moved.get(e.w) || 0, lab = g.edge(e);
        if (dv !== dw) {
          const a = g.node(e.v), b = g.node(e.w);
          lab.points = [{ x: a.x + a.width / 2, y: a.y }, { x: b.x - b.width / 2, y: b.y }];
        } else if (dv) {
          lab.points = (lab.points || []).map((p) => ({ x: p.x, y: p.y + dv }));
        } else if (grow > 0) {
          lab.points = (lab.points || []).map((p) => ({ x: p.x, y: p.y >= below ? p.y + grow : p.y }));
        }
      }
    }
  }

  // blockOf is the item number of graph node k (0 for none) and the vertical extent of
  // it and everything it contains.
  function blockOf(g, info, k) {
    const lab = g.node(k);
    const i = lab.data && info.get(lab.data.ID);
    const m = i ? /^#(\d+) /.exec(i.prefix || "") : null;
    const members = descendants(g, k);
    let top = Infinity, bottom = -Infinity;
    for (const x of members) {
      const n = g.node(x);
      top = Math.min(top, n.y - n.height / 2);
      bottom = Math.max(bottom, n.y + n.height / 2);
    }
    const item = lab.box === "swarm" ? 0 : m ? Number(m[1]) : lab.box === "more" ? 1e9 : -1;
    return { item: item, top: top, bottom: bottom, members: members };
  }

  // descendants is k and every graph node inside it.
  function descendants(g, k) {
    const out = [k];
    for (let j = 0; j < out.length; j++) out.push(...g.children(out[j]));
    return out;
  }

  return {
    MAX_ITEMS: MAX_ITEMS, NODE_W: NODE_W, build: build, lines: lines, chainTitle: chainTitle,
    idTail: idTail, kwargsText: kwargsText, valueText: valueText, clip: clip, statusOf: statusOf,
    swarmProgress: swarmProgress,
  };
})();
