/* The webhooks pages (templates/webhooks/). No inline scripts (the Content-Security-Policy refuses
 * them): elements are marked with data- attributes.
 *
 * <button data-copy-from="ID" data-copied-text="Copied" hidden> copies the value of the field ID
 * (a secret shown once). It stays hidden where the clipboard cannot be written; the field itself
 * selects its whole value on focus (app.js), so copying by keyboard still works there.
 */
(function () {
  "use strict";

  function reveal() {
    if (!navigator.clipboard || !window.isSecureContext) return;
    document.querySelectorAll("[data-copy-from]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function say(id, text) {
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
      function () { say(id, button.getAttribute("data-copied-text") || "✓"); },
      function () { field.focus(); field.select(); }
    );
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reveal);
  } else {
    reveal();
  }
})();
