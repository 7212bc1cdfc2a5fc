/* The respondent form (templates/surveys/respond/form.html): shows follow-up questions as soon
   as an answer meets their condition; without JavaScript the server shows them after the first
   send. Mirrors surveys.instruments.condition_holds. */
(function () {
  var form = document.getElementById("respond-form"), seen = document.getElementById("respond-seen");
  var questions = Array.prototype.slice.call(form.querySelectorAll("[data-key]"));
  function read(key, type) {
    var picked = form.querySelectorAll('input[name="' + key + '"]:checked');
    var values = Array.prototype.map.call(picked, function (input) { return input.value; });
    if (type === "multiple_choice") return values;
    if (!values.length) return null;
    if (type === "single_choice") return values[0];
    if (type === "yes_no") return values[0] === "yes" ? 1 : 0;
    return parseInt(values[0], 10);
  }
  function holds(c, answers) {
    if (!c) return true;
    var a = answers[c.question];
    if (a === undefined || a === null) return false;
    if (Array.isArray(a)) {
      var wanted = Array.isArray(c.value) ? c.value : [c.value];
      return (c.op === "eq" || c.op === "in") && wanted.some(function (w) { return a.indexOf(w) >= 0; });
    }
    if (c.op === "eq") return a === c.value;
    if (c.op === "in") return Array.isArray(c.value) && c.value.indexOf(a) >= 0;
    if (typeof a !== "number") return false;
    if (c.op === "lte") return a <= c.value;
    if (c.op === "gte") return a >= c.value;
    return false;
  }
  function update() {
    var answers = {}, shown = [];
    questions.forEach(function (el) {
      var key = el.getAttribute("data-key"), type = el.getAttribute("data-type");
      var condition = el.getAttribute("data-condition");
      var visible = holds(condition ? JSON.parse(condition) : null, answers);
      el.hidden = !visible;
      if (visible) {
        shown.push(key);
        if (type !== "text") answers[key] = read(key, type);
      }
    });
    seen.value = shown.join(",");
  }
  form.addEventListener("change", update);
  update();
})();
