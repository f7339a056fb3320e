/* The network page: fetch network.json and draw it with the vendored cytoscape.
   Every label and name comes from captured pages, so text only ever goes in
   through cytoscape's canvas labels or textContent, never innerHTML. */
(function () {
  "use strict";
  var box = document.getElementById("kith-graph");
  var statusLine = document.getElementById("kith-graph-status");
  var panel = document.getElementById("kith-panel");
  var pathList = document.getElementById("kith-path");
  if (!box || typeof cytoscape !== "function") {
    if (statusLine) statusLine.textContent = "The graph library did not load.";
    return;
  }
  var COLOURS = { professional: "#3b7dd8", personal: "#3aa35b", both: "#8e5bd0" };
  var BIG = 400;

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function contactHref(id) { return box.dataset.contactBase + encodeURIComponent(String(Number(id))); }
  function centreHref(id) {
    return box.dataset.networkBase + "?center=" + encodeURIComponent(String(Number(id))) + "&depth=2";
  }

  function showPanel(data) {
    panel.replaceChildren();
    panel.appendChild(el("strong", data.label || "(no name)"));
    if (data.kind === "org") {
      panel.appendChild(el("div", "organisation"));
    } else {
      if (data.company) panel.appendChild(el("div", data.company));
      var links = el("div");
      links.appendChild(el("a", "Open contact", { href: contactHref(data.id) }));
      links.appendChild(document.createTextNode(" · "));
      links.appendChild(el("a", "Centre here", { href: centreHref(data.id) }));
      panel.appendChild(links);
    }
    panel.hidden = false;
  }

  function showPath(graph) {
    if (!graph.path_to) return;
    pathList.replaceChildren();
    if (!graph.path) {
      pathList.appendChild(el("li", graph.me ? "No path within 5 hops through recorded relationships."
        : "Mark your own contact (is_me) to find paths from you."));
    } else {
      graph.path.forEach(function (step, i) {
        var item = el("li");
        if (step.via) item.appendChild(el("span", "(" + step.via.replace(/_/g, " ") + ") ", { "class": "kith-meta" }));
        item.appendChild(el("a", i === 0 ? "You" : (step.name || "#" + step.id), { href: contactHref(step.id) }));
        pathList.appendChild(item);
      });
    }
    pathList.hidden = false;
  }

  // Centred: rings by hop count. Otherwise each connected group is laid out on its own
  // and the groups are packed in rows: force layouts are quadratic, so cose only ever
  // sees one group of modest size, never all 2,000 nodes at once.
  function layoutCentred(cy, graph) {
    var outer = graph.depth + 1;
    cy.layout({ name: "concentric", animate: false, minNodeSpacing: 6, levelWidth: function () { return 1; },
                concentric: function (n) { var d = n.data("depth"); return d === null || d === undefined ? 0 : outer - d; }
              }).run();
  }

  function layoutPacked(cy) {
    var groups = cy.elements().components().sort(function (a, b) { return b.nodes().length - a.nodes().length; });
    var singles = cy.collection();
    var x = 0, y = 0, rowHeight = 0, rowWidth = Math.max(1200, Math.sqrt(cy.nodes().length) * 90);
    function place(group, name, options) {
      var side = Math.max(120, Math.sqrt(group.nodes().length) * 70);
      var spec = { name: name, animate: false, fit: false };
      if (name !== "cose") spec.boundingBox = { x1: 0, y1: 0, w: side, h: side };  // cose spreads itself
      group.layout(Object.assign(spec, options || {})).run();
      var box = group.boundingBox();  // layouts may need more room than asked: measure, then move
      if (x > 0 && x + box.w > rowWidth) { x = 0; y += rowHeight + 60; rowHeight = 0; }
      group.nodes().shift({ x: x - box.x1, y: y - box.y1 });
      x += box.w + 60; rowHeight = Math.max(rowHeight, box.h);
    }
    groups.forEach(function (group) {
      var n = group.nodes().length;
      if (n === 1) { singles = singles.union(group); return; }
      if (n <= 7) place(group, "circle");
      else if (n <= 150) place(group, "cose", { numIter: n <= 60 ? 1000 : 250, randomize: true,
                                                nodeRepulsion: function () { return 8000; } });
      else place(group, "concentric", { minNodeSpacing: 4, concentric: function (node) { return node.degree(); } });
    });
    if (singles.length) {
      x = 0; y += rowHeight + 80;
      var cols = Math.ceil(Math.sqrt(singles.length * 3));
      singles.layout({ name: "grid", animate: false, fit: false, cols: cols, avoidOverlap: true,
                       boundingBox: { x1: 0, y1: y, w: cols * 45, h: Math.ceil(singles.length / cols) * 45 } }).run();
    }
    cy.fit(undefined, 20);
  }

  function draw(graph) {
    var count = graph.nodes.length;
    var elements = graph.nodes.map(function (n) {
      return { data: { id: String(n.id), label: n.label || "", kind: n.kind, company: n.company,
                       colour: n.kind === "org" ? "#e8943a" : (COLOURS[n.circle] || "#9aa0a6"),
                       depth: n.depth, me: n.is_me ? 1 : 0 } };
    });
    graph.edges.forEach(function (e, i) {
      elements.push({ data: { id: "e" + i, source: String(e.source), target: String(e.target),
                              kind: e.kind, onPath: e.on_path ? 1 : 0 } });
    });
    var big = count > BIG;
    var cy = cytoscape({
      container: box, elements: elements, layout: { name: "preset" },
      hideEdgesOnViewport: big, textureOnViewport: big, pixelRatio: big ? 1 : "auto",
      minZoom: 0.05, maxZoom: 4,
      style: [
        { selector: "node", style: { "background-color": "data(colour)", label: "data(label)",
          "font-size": 10, "min-zoomed-font-size": big ? 8 : 0, width: 14, height: 14,
          "text-valign": "bottom", "text-margin-y": 3, color: "#333" } },
        { selector: "node[kind = 'org']", style: { shape: "round-rectangle", width: 18, height: 18 } },
        { selector: "node[me = 1]", style: { width: 24, height: 24, "border-width": 3, "border-color": "#222" } },
        { selector: "edge", style: { width: 1, "line-color": "#c8c8c8", "curve-style": big ? "haystack" : "bezier" } },
        { selector: "edge[kind = 'introduced_by']", style: { "line-color": "#b58be0", "line-style": "dashed" } },
        { selector: "edge[kind = 'works_at']", style: { "line-color": "#f1c48f" } },
        { selector: "edge[onPath = 1]", style: { width: 4, "line-color": "#d33" } }
      ]
    });
    if (graph.center !== null && graph.center !== undefined) layoutCentred(cy, graph);
    else layoutPacked(cy);
    cy.on("tap", "node", function (evt) { showPanel(evt.target.data()); });
    window.kithGraph = cy;
    box.dataset.nodeCount = String(cy.nodes().length);
    box.dataset.ready = "true";
    var people = graph.nodes.filter(function (n) { return n.kind === "person"; }).length;
    statusLine.textContent = people + " people, " + graph.edges.length + " links" +
      (graph.truncated ? " (showing the first " + graph.limit + "; filter or centre to see others)" : "") + ".";
    showPath(graph);
  }

  fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(draw)
    .catch(function (err) { statusLine.textContent = "Could not load the graph: " + err.message; });
})();
