/* The survey page framed by a customer's website (templates/surveys/respond/ with embed=1). Tells
 * static/embed/feedback.js on the host page how tall the page is, so the frame fits it without a
 * scroll bar; that the respondent has answered (on the thank-you page, <body
 * data-embed-page="thanks">); and that Escape was pressed in here, where the host page's own
 * keyboard listener cannot hear it. Opened on its own, outside a frame, it does nothing.
 */
(function () {
  "use strict";

  if (window.parent === window) return;

  // Target "*": the messages carry no data (a height, "answered", "escape"), nothing about the
  // respondent or their answers, and this page cannot know which of the allowed origins framed it
  // (frame-ancestors has already refused the others). The host script checks that a message
  // comes from our origin and from its own iframe.
  function post(message) {
    message.source = "cxfeedback";
    window.parent.postMessage(message, "*");
  }

  var root = document.documentElement, posted = 0;

  function height() {
    // The page's own height, not root.scrollHeight: that never drops below the frame's current
    // height, so a frame could grow but never shrink back (a shorter thank-you page, a follow-up
    // question hidden again).
    var tall = Math.ceil(root.getBoundingClientRect().height);
    if (tall !== posted) {
      posted = tall;
      post({ type: "height", height: tall });
    }
  }

  function start() {
    // The respondent pages fill the window (body min-height 100vh); framed, the frame's height
    // comes from the page, so the page must not take it from the frame.
    document.body.style.minHeight = "0";
    height();
    if (window.ResizeObserver) new ResizeObserver(height).observe(root);
    else window.addEventListener("resize", height);
    window.addEventListener("load", height);
    if (document.body.getAttribute("data-embed-page") === "thanks") post({ type: "answered" });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") post({ type: "escape" });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
