/* Draws the charts of templates/components/chart.html with plotly.js.
 *
 * Each plot element names its figure's JSON data block in data-chart (built by reports/charts.py).
 * The caption, the table view and the CSV link work without this script; if plotly.js is missing
 * or a figure cannot be drawn, the table view is opened instead. The PNG button appears only once
 * its chart is drawn. Charts that arrive in an HTMX swap are drawn after the swap.
 */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    // Our own PNG button downloads with the title; the selection tools mean nothing here.
    modeBarButtonsToRemove: ["toImage", "select2d", "lasso2d", "autoScale2d"],
  };

  function figureOf(el) {
    var block = document.getElementById(el.getAttribute("data-chart"));
    if (!block) return null;
    try {
      return JSON.parse(block.textContent);
    } catch (error) {
      return null;
    }
  }

  function showTable(el) {
    el.hidden = true;
    var figure = el.closest("[data-chart-figure]");
    var details = figure && figure.querySelector("details");
    if (details) details.open = true;
  }

  function draw(el) {
    if (el.getAttribute("data-chart-drawn")) return;
    var figure = figureOf(el);
    if (!figure || !window.Plotly) {
      showTable(el);
      return;
    }
    el.setAttribute("data-chart-drawn", "pending");
    el.hidden = false; // plotly measures the element, so it must be visible first
    var config = Object.assign({}, CONFIG, figure.config || {});
    var drawing;
    try {
      drawing = window.Plotly.newPlot(el, figure.data, figure.layout, config);
    } catch (error) {
      drawing = Promise.reject(error);
    }
    Promise.resolve(drawing).then(
      function () {
        el.setAttribute("data-chart-drawn", "true");
        var button = document.querySelector('[data-chart-png="' + el.id + '"]');
        if (button) button.hidden = false;
      },
      function () {
        el.removeAttribute("data-chart-drawn");
        showTable(el);
      }
    );
  }

  function drawAll(root) {
    root.querySelectorAll("[data-chart]").forEach(draw);
  }

  function downloadPng(button) {
    var el = document.getElementById(button.getAttribute("data-chart-png"));
    if (!el || !window.Plotly || el.getAttribute("data-chart-drawn") !== "true") return;
    var title = el.getAttribute("data-chart-title") || "";
    var layout = Object.assign({}, el.layout);
    var margin = Object.assign({}, layout.margin || {});
    // The page shows the title in the caption; the image carries it itself.
    margin.t = (margin.t || 0) + 40;
    layout.margin = margin;
    layout.title = { text: title, x: 0, xref: "paper", font: { size: 16 } };
    var width = Math.max(el.offsetWidth, 640);
    var height = (layout.height || el.offsetHeight) + 40;
    layout.height = height;
    window.Plotly.downloadImage(
      { data: el.data, layout: layout, config: { displaylogo: false } },
      { format: "png", filename: button.getAttribute("data-filename") || "chart", width: width, height: height }
    );
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-chart-png]");
    if (button) downloadPng(button);
  });

  // Free plotly's listeners on charts in the region an HTMX swap is about to change. Charts that
  // stay in the page (an appending swap) lose their mark and are drawn again after the swap.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail || {};
    if (!detail.shouldSwap || !detail.target || !window.Plotly) return;
    detail.target.querySelectorAll("[data-chart-drawn]").forEach(function (el) {
      window.Plotly.purge(el);
      el.removeAttribute("data-chart-drawn");
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    drawAll(document);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      drawAll(document);
    });
  } else {
    drawAll(document);
  }
})();
