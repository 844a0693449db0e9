// Calls pages: Enter in a person search box searches; it must not submit the call form.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key === "Enter" && field.matches && field.matches("input[data-person-search]")) {
      event.preventDefault();
    }
  });
})();
