// Offers the index's titles and terms as the query is typed: the query box's <datalist>, filled from
// GET /api/suggest a moment after the typing stops (titles that begin with the line, then the line with its
// last word completed). Only an enhancement: without this script the form searches just the same.
(function () {
  "use strict";
  var box = document.getElementById("q");
  var list = document.getElementById("q-suggestions");
  if (!box || !list || !window.fetch || !window.AbortController) return;
  var url = list.getAttribute("data-src");
  var wait = 150; // ms after the last key: one request per pause, not one per key
  var timer = null;
  var pending = null;
  var asked = null;

  function show(lines) {
    var options = lines.filter(function (line, i) { return lines.indexOf(line) === i; }).map(function (line) {
      var option = document.createElement("option");
      option.value = line;
      return option;
    });
    list.replaceChildren.apply(list, options);
  }

  function ask() {
    var q = box.value;
    if (q === asked) return;
    asked = q;
    if (pending) pending.abort();
    if (!q.trim()) {
      show([]);
      return;
    }
    pending = new AbortController();
    var asking = { signal: pending.signal, headers: { Accept: "application/json" } };
    fetch(url + "?limit=8&q=" + encodeURIComponent(q), asking)
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer || answer.q !== box.value) return; // a later key asked again
        var titles = answer.titles.map(function (t) { return t.title; });
        show(titles.concat(answer.suggestions.map(function (s) { return s.text; })));
      })
      .catch(function () {}); // aborted by the next key, or the server is away: the box works as before
  }

  box.setAttribute("list", list.id);
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, wait);
  });
})();
