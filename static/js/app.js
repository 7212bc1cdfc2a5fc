/* Small behaviours of the staff pages (templates/base.html). Templates carry no inline scripts or
 * event handlers (the Content-Security-Policy refuses them), so they mark elements with data-
 * attributes and these listeners, delegated from the document, act on them, HTMX swaps included.
 */
(function () {
  "use strict";

  // components/org_switcher.html: choosing an organization opens it.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-org-switcher] select");
    if (select && select.value) window.location = select.value;
  });

  // A read-only field to copy from (a new API key): focusing it selects the whole value.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
