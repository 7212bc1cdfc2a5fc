/* Progressive touches of the alerts pages (templates/alerts/); every page works without them.
 *
 * - The rule editor hides what the chosen kind and metric do not use: the aggregate settings for
 *   a rule on each response, the comparison for open-answer words and the words for scores.
 * - The case inbox shows a "choose every case on this page" box for the bulk assign.
 */
(function () {
  "use strict";

  function ruleForm(form) {
    var kind = form.querySelector("[name=kind]");
    var metric = form.querySelector("[name=metric]");
    var aggregate = form.querySelector('[data-part="aggregate"]');

    function field(name) {
      return form.querySelector('[data-field="' + name + '"]');
    }

    function sync() {
      if (aggregate && kind) aggregate.hidden = kind.value === "response";
      if (!metric) return;
      var text = metric.value === "text";
      ["operator", "threshold"].forEach(function (name) {
        var el = field(name);
        if (el) el.hidden = text;
      });
      var words = field("keywords");
      if (words) words.hidden = !text;
    }

    if (kind) kind.addEventListener("change", sync);
    if (metric) metric.addEventListener("change", sync);
    sync();
  }

  function selectAll(box) {
    var name = box.getAttribute("data-select-all");
    var form = box.closest("form");
    if (!form) return;
    box.hidden = false;
    box.addEventListener("change", function () {
      form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (el) {
        el.checked = box.checked;
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-rule-form]").forEach(ruleForm);
    document.querySelectorAll("[data-select-all]").forEach(selectAll);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
