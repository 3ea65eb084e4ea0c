"""report.html's only script, allowed by its hash: sorting and filtering of the tables, and
opening every collapsed part for printing. The page says everything without it; it adds no
content of its own beyond controls and a row count.

Tables opt in with attributes the renderers write: `data-sortable` on the table and
`data-sort="num|text|rank"` on a column's header (a cell's `data-v` is its key when present;
`rank` is the category order); `data-filter` on the table for a toolbar that filters its rows
by their `data-category` and `data-org` attributes and by text.
"""

from __future__ import annotations

from auditor.records import CATEGORY_ORDER

_CATEGORIES = ",".join(f'"{c.value}"' for c in CATEGORY_ORDER)

SCRIPT = """
(function () {
  "use strict";
  var ORDER = [CATEGORIES];
  function key(cell, kind) {
    if (!cell) return null;
    if (kind === "num") {
      var raw = cell.getAttribute("data-v");
      return raw === null || raw === "" ? null : parseFloat(raw);
    }
    var text = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
    if (kind === "rank") {
      var rank = ORDER.indexOf(text);
      return rank < 0 ? ORDER.length : rank;
    }
    return text === "" ? null : text.toLowerCase();
  }
  function compare(a, b, kind) {
    if (a === null || b === null) return a === b ? 0 : (a === null ? 1 : -1);
    if (kind === "text") return a.localeCompare(b);
    return a - b;
  }
  function sortBy(table, column, kind, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) {
      return !r.classList.contains("more");
    });
    var keyed = rows.map(function (row, i) {
      return {row: row, i: i, k: key(row.cells[column], kind)};
    });
    keyed.sort(function (a, b) {
      var order = compare(a.k, b.k, kind);
      if (descending && a.k !== null && b.k !== null) order = -order;
      return order || a.i - b.i;
    });
    var more = body.querySelector("tr.more");
    keyed.forEach(function (item) { body.insertBefore(item.row, more); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === column) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
  }
  function makeSortable(table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, column) {
      var kind = th.getAttribute("data-sort");
      if (!kind) return;
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.addEventListener("click", function () {
        var now = th.getAttribute("aria-sort");
        var descending = now ? now === "ascending" : kind === "num";
        sortBy(table, column, kind, descending);
      });
    });
  }
  function option(select, value, text) {
    var item = document.createElement("option");
    item.value = value;
    item.textContent = text;
    select.appendChild(item);
  }
  function control(bar, text, element) {
    var label = document.createElement("label");
    label.textContent = text + " ";
    label.appendChild(element);
    bar.appendChild(label);
    return element;
  }
  function makeFilter(table) {
    var rows = Array.prototype.filter.call(table.tBodies[0].rows, function (r) {
      return !r.classList.contains("more");
    });
    var bar = document.createElement("div");
    bar.className = "toolbar";
    var category = control(bar, "Category", document.createElement("select"));
    option(category, "", "all");
    ORDER.forEach(function (name) {
      if (rows.some(function (r) { return r.getAttribute("data-category") === name; }))
        option(category, name, name);
    });
    var orgs = [];
    rows.forEach(function (r) {
      var org = r.getAttribute("data-org");
      if (org !== null && orgs.indexOf(org) < 0) orgs.push(org);
    });
    orgs.sort(function (a, b) { return a.localeCompare(b); });
    var organisation = control(bar, "Organisation", document.createElement("select"));
    option(organisation, "", "all");
    orgs.forEach(function (org) { option(organisation, org, org || "(none known)"); });
    var search = control(bar, "Contains", document.createElement("input"));
    search.type = "search";
    var sortable = table.hasAttribute("data-sortable");
    if (sortable) {
      var order = control(bar, "Sort by", document.createElement("select"));
      option(order, "", "as listed");
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        var kind = th.getAttribute("data-sort");
        if (kind) option(order, i + ":" + kind, th.textContent.trim());
      });
      order.addEventListener("change", function () {
        if (!order.value) return;
        var parts = order.value.split(":");
        sortBy(table, parseInt(parts[0], 10), parts[1], parts[1] === "num");
      });
    }
    var count = document.createElement("span");
    count.className = "muted";
    count.setAttribute("aria-live", "polite");
    bar.appendChild(count);
    function apply() {
      var shown = 0, text = search.value.trim().toLowerCase();
      rows.forEach(function (r) {
        var ok = (!category.value || r.getAttribute("data-category") === category.value) &&
          (!organisation.value || r.getAttribute("data-org") === organisation.value) &&
          (!text || r.textContent.toLowerCase().indexOf(text) >= 0);
        r.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    }
    [category, organisation].forEach(function (s) { s.addEventListener("change", apply); });
    search.addEventListener("input", apply);
    apply();
    var wrap = table.closest(".wrap") || table;
    wrap.parentNode.insertBefore(bar, wrap);
  }
  document.querySelectorAll("table[data-sortable]").forEach(makeSortable);
  document.querySelectorAll("table[data-filter]").forEach(makeFilter);
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      opened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
""".replace("CATEGORIES", _CATEGORIES)
