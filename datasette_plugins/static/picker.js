/* The name picker: type part of a name, pick the person, the form sends their id.

   Markup: <input type="text" name="other" data-kith-picker data-kith-people="/-/kith/people.json"
   [data-kith-id="12"] value="Priya Natarajan">. Without JavaScript the box posts what was typed
   (a name, "#12" or 12) and the server works out who was meant. With it, the box loses its name to
   a hidden input that carries the picked id; a typed text that was never picked is sent as it is.
   Names come from captured pages: they only ever go in through textContent. */
(function () {
  "use strict";
  var DEBOUNCE_MS = 120;
  var counter = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setup(input) {
    if (input.dataset.kithPickerReady) return;
    input.dataset.kithPickerReady = "true";
    var source = input.dataset.kithPeople;
    var form = input.form;
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = input.name;
    hidden.value = input.dataset.kithId || "";
    input.removeAttribute("name");
    input.insertAdjacentElement("afterend", hidden);
    var id = "kith-picker-" + (++counter);
    var list = el("ul", "kith-picker-list");
    list.id = id;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var wrap = el("span", "kith-picker");
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    input.setAttribute("autocomplete", "off");

    var people = [];
    var active = -1;
    var timer = null;
    var asked = 0;
    var picked = input.value;

    function close() {
      list.hidden = true;
      list.replaceChildren();
      people = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    }

    function pick(person) {
      input.value = person.name || "#" + person.id;
      picked = input.value;
      hidden.value = String(person.id);
      input.dataset.kithId = String(person.id);
      close();
      input.dispatchEvent(new CustomEvent("kith:picked", { bubbles: true, detail: { id: person.id } }));
    }

    function show(found, query) {
      list.replaceChildren();
      people = found;
      if (!found.length) {
        var none = el("li", "kith-picker-none", "Nobody matches " + query);
        none.setAttribute("role", "presentation");
        list.appendChild(none);
      }
      found.forEach(function (person, i) {
        var option = el("li", "kith-picker-option");
        option.id = id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.id = String(person.id);
        option.appendChild(el("span", "kith-picker-name", person.name || "(no name)"));
        var about = person.headline || person.company;
        if (about) option.appendChild(el("span", "kith-picker-meta", about));
        option.appendChild(el("span", "kith-picker-id", "#" + person.id));
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
          pick(person);
        });
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      if (found.length) highlight(0);
    }

    function ask() {
      var query = input.value.trim();
      if (!query) { close(); return; }
      var mine = ++asked;
      fetch(source + "?q=" + encodeURIComponent(query), { credentials: "same-origin",
                                                           headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (data) { if (mine === asked && document.activeElement === input) show(data.people || [], query); })
        .catch(function () { if (mine === asked) close(); });
    }

    input.addEventListener("input", function () {
      if (input.value !== picked) {
        hidden.value = "";
        delete input.dataset.kithId;
      }
      clearTimeout(timer);
      timer = setTimeout(ask, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || !people.length) {
        if (event.key === "ArrowDown" && input.value.trim()) { ask(); event.preventDefault(); }
        return;
      }
      if (event.key === "ArrowDown") { highlight(Math.min(active + 1, people.length - 1)); event.preventDefault(); }
      else if (event.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); event.preventDefault(); }
      else if (event.key === "Enter") { if (active >= 0) { pick(people[active]); event.preventDefault(); } }
      else if (event.key === "Escape") { close(); event.preventDefault(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    if (form) {
      form.addEventListener("submit", function () {
        // Typed but never picked: send the text, and let the server find the one person it names.
        if (!hidden.value && input.value.trim()) hidden.value = input.value.trim();
      });
    }
  }

  function init() {
    document.querySelectorAll("input[data-kith-picker]").forEach(setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
