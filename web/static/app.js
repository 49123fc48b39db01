// Signoff progressive enhancement.
// The site works fully without JavaScript: nothing here is required.
(function () {
  "use strict";

  // Move focus to the error summary when a form comes back with errors,
  // so screen reader and keyboard users hear what went wrong first.
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) {
    summary.focus();
  }
})();
