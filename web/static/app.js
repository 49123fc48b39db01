// Signoff progressive enhancement.
// The site must work fully without JavaScript: nothing here is required.
// Nothing is needed yet; add small, optional enhancements inside this IIFE.
(function () {
  "use strict";
})();
