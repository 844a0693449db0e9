// Sync run page: htmx polls the progress fragment; when the run ends, reload once so the
// figures and errors below the bar show the final state.
(function () {
  "use strict";
  var box = document.getElementById("sync-progress");
  if (!box || box.dataset.finished === "true") { return; }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var swapped = document.getElementById("sync-progress");
    if (swapped && swapped.dataset.finished === "true") { window.location.reload(); }
  });
})();
