// People page: keep the address bar in step with the search typed, so reload and back work.
(function () {
  "use strict";
  var input = document.getElementById("people-q");
  if (!input) { return; }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id !== "people-results") { return; }
    var url = new URL(window.location.href);
    if (input.value) { url.searchParams.set("q", input.value); } else { url.searchParams.delete("q"); }
    window.history.replaceState(null, "", url);
  });
})();
