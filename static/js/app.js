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

  // <button data-copy-from="ID" data-copied-text="Copied" hidden> copies the value of the field
  // ID (a secret shown once, a share link). It stays hidden where the clipboard cannot be
  // written; the field selects its whole value on focus, so copying by keyboard still works.
  function revealCopyButtons() {
    if (!navigator.clipboard || !window.isSecureContext) return;
    document.querySelectorAll("[data-copy-from]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function sayCopied(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) status.textContent = text;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var id = button.getAttribute("data-copy-from");
    var field = document.getElementById(id);
    if (!field) return;
    navigator.clipboard.writeText(field.value).then(
      function () { sayCopied(id, button.getAttribute("data-copied-text") || "✓"); },
      function () { field.focus(); field.select(); }
    );
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", revealCopyButtons);
  } else {
    revealCopyButtons();
  }
  document.addEventListener("htmx:afterSwap", revealCopyButtons);
})();
