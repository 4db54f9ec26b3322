// Wide code blocks and formulas can be scrolled from the keyboard.
//
// Material gives its own scrollable `pre > code` blocks tabindex="0"; the
// notebook pages' code cells and outputs (mkdocs-jupyter) and KaTeX's display
// formulas scroll sideways too, but a keyboard user cannot reach them
// (WCAG 2.1.1; axe-core's rule scrollable-region-focusable). This script gives
// every region of the page content that scrolls, holds nothing focusable and
// has no tabindex yet, tabindex="0" (and data-scroll-focus, which extra.css
// outlines on focus); it looks again when the window is resized, a folded
// block is opened or a content tab is chosen.
// tests/browser/test_a11y.py checks every page with axe-core.
(function () {
  "use strict";

  var CANDIDATES = "div, pre, code, table";
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function scrolls(node) {
    var style = window.getComputedStyle(node);
    var x = /(auto|scroll)/.test(style.overflowX) && node.scrollWidth > node.clientWidth;
    var y = /(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight;
    return x || y;
  }

  function mark() {
    var content = document.querySelector(".md-content");
    if (!content) return;
    Array.prototype.forEach.call(content.querySelectorAll(CANDIDATES), function (node) {
      if (node.hasAttribute("data-scroll-focus")) {
        if (!scrolls(node)) {
          node.removeAttribute("tabindex");
          node.removeAttribute("data-scroll-focus");
        }
        return;
      }
      if (node.hasAttribute("tabindex") || node.querySelector(FOCUSABLE)) return;
      if (!scrolls(node)) return;
      node.setAttribute("tabindex", "0");
      node.setAttribute("data-scroll-focus", "");
    });
  }

  var pending = null;
  function later() {
    window.clearTimeout(pending);
    pending = window.setTimeout(mark, 200);
  }
  window.addEventListener("resize", later);
  window.addEventListener("load", later);
  document.addEventListener("toggle", later, true); // <details> opened or closed
  document.addEventListener("change", later, true); // a content tab chosen
  if (typeof window.document$ !== "undefined" && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(mark);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mark);
  } else {
    mark();
  }
})();
