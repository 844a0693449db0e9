// My reviews: "select all" for the page's rows, and focus kept on the button pressed when its
// row is swapped in place after a decision (htmx), so a keyboard user stays where they were.
(function () {
  "use strict";
  var focused = null;
  document.addEventListener("change", function (event) {
    if (event.target.id !== "check-all") return;
    document.querySelectorAll("#queue-form .item-check").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
  // A refused decision answers 400 or 403 with the words to show: swap them in (htmx leaves
  // error answers unswapped by default).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (event.detail.elt.id === "queue-form" && (status === 400 || status === 403)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var active = document.activeElement;
    focused = active && active.id ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var all = document.getElementById("check-all");
    if (all) all.checked = false;
    if (!focused) return;
    var again = document.getElementById(focused);
    if (again && document.activeElement !== again) again.focus({ preventScroll: true });
  });
})();
