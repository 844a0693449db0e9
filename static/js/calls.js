// Calls pages: Enter in a person search box searches, it must not submit the call form; the
// redirect countdown ticks between polls; "show every event" stays open while the part polls.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key === "Enter" && field.matches && field.matches("input[data-person-search]")) {
      event.preventDefault();
    }
  });

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-countdown-until]").forEach(function (el) {
      var left = Math.max(0, Math.floor(Number(el.getAttribute("data-countdown-until")) - now));
      el.textContent = left > 0 ? left + " s" : "no time left";
    });
  }
  setInterval(tick, 250);

  var everyEventOpen = false;
  document.addEventListener("htmx:beforeSwap", function () {
    var details = document.getElementById("call-every-event");
    everyEventOpen = Boolean(details && details.open);
  });
  document.addEventListener("htmx:afterSwap", function () {
    var details = document.getElementById("call-every-event");
    if (details && everyEventOpen) {
      details.open = true;
    }
    tick();
  });
})();
