/* Small helpers for the partner portal. The pages work without this file. */
(function () {
  "use strict";

  // Sales report: show "That is N sold." under a line as the shelf count is typed.
  function previewLine(line, texts) {
    var held = parseInt(line.dataset.held, 10);
    var shelfInput = line.querySelector("[data-role=shelf]");
    var soldInput = line.querySelector("[data-role=sold]");
    var preview = line.querySelector("[data-role=preview]");
    if (!shelfInput || !preview) return;
    var shelf = shelfInput.value.trim();
    if (shelf === "" || !/^\d+$/.test(shelf)) {
      preview.textContent = "";
      if (soldInput) soldInput.placeholder = "";
      return;
    }
    var sold = held - parseInt(shelf, 10);
    if (sold < 0) {
      preview.textContent = texts.tooMany;
      return;
    }
    preview.textContent = texts.sold.replace("{sold}", String(sold));
    if (soldInput) soldInput.placeholder = String(sold);
  }

  function bindReport(root) {
    var lists = root.querySelectorAll("[data-report-lines]");
    lists.forEach(function (list) {
      if (list.dataset.bound) return;
      list.dataset.bound = "1";
      var texts = { sold: list.dataset.textSold, tooMany: list.dataset.textTooMany };
      list.addEventListener("input", function (event) {
        var line = event.target.closest(".report-line");
        if (line) previewLine(line, texts);
      });
      // A line the server already flagged keeps its message alone until it is edited.
      list.querySelectorAll(".report-line").forEach(function (line) {
        if (!line.querySelector(".invalid-feedback")) previewLine(line, texts);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindReport(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    bindReport(event.target.parentElement || document);
  });
})();
