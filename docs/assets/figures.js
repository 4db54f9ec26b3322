// Picture first: in the notebook pages, a code cell tagged "hide-input"
// (the drawing code of a figure) shows its output first and its code
// folded into a closed <details> below it. The summary is the cell's
// first line when that is a comment. Without JavaScript the cell is shown
// as it is, code first.
(function () {
  "use strict";

  function fold() {
    document.querySelectorAll(".jp-Cell.celltag_hide-input").forEach(function (cell) {
      var input = cell.querySelector(".jp-Cell-inputWrapper");
      if (!input || input.closest("details")) {
        return;
      }
      var first = (input.querySelector("pre") || input).textContent.trim().split("\n")[0];
      var summary = document.createElement("summary");
      summary.textContent = /^#/.test(first) ? first.replace(/^#+\s*/, "") : "Code";
      var details = document.createElement("details");
      details.className = "folded-input";
      details.appendChild(summary);
      cell.appendChild(details);      // after the output: the picture first
      details.appendChild(input);
    });
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(fold);        // Material's page-load observable
  } else {
    document.addEventListener("DOMContentLoaded", fold);
  }
})();
