// Offers the index's terms as the query is typed: the query box's <datalist>, filled from GET /api/suggest a
// moment after the typing stops. Only an enhancement: without this script the form searches just the same.
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

  function show(items) {
    var options = items.map(function (item) {
      var option = document.createElement("option");
      option.value = item.text;
      return option;
    });
    list.replaceChildren.apply(list, options);
  }

  function ask() {
    var q = box.value;
    if (q === asked) return;
    asked = q;
    if (pending) pending.abort();
    if (!q.trim() || /\s$/.test(q)) { // nothing typed, or a word just finished: nothing to complete
      show([]);
      return;
    }
    pending = new AbortController();
    fetch(url + "?limit=8&q=" + encodeURIComponent(q), { signal: pending.signal, headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && answer.q === box.value) show(answer.suggestions); })
      .catch(function () {}); // aborted by the next key, or the server is away: the box works as before
  }

  box.setAttribute("list", list.id);
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, wait);
  });
})();
