// Copy buttons on interactive sessions copy code that runs.
//
// Material's copy button (content.code.copy) hands its text to clipboard.js;
// Material 9.8 takes that text from the nearest ancestor of the <code> with a
// data-copy attribute, else from the code's innerText (prompts and output
// included). So for every ```pycon block, and every block whose code starts
// with ">>>", this script puts the runnable code in data-copy on the <pre>:
// the source lines of each example with their ">>> " / "... " prompts
// stripped and the output lines dropped, as Python's doctest module reads
// them. Other blocks copy unchanged. tests/browser/test_site.py checks the
// clipboard against doctest.DocTestParser on every page.
(function () {
  "use strict";

  var PROMPT = /^(\s*)>>>( |$)/;
  var CONTINUATION = /^(\s*)\.\.\.( |$)/;

  // The source lines of the doctest examples in text, prompts stripped.
  function runnable(text) {
    var out = [];
    var inExample = false;
    text.replace(/\r\n?/g, "\n").split("\n").forEach(function (line) {
      var m = PROMPT.exec(line);
      if (m) {
        out.push(line.slice(m[0].length));
        inExample = true;
        return;
      }
      m = CONTINUATION.exec(line);
      if (inExample && m) {
        out.push(line.slice(m[0].length));
        return;
      }
      inExample = false; // an output line (or a blank line ending the output)
    });
    return out.join("\n").replace(/\s+$/, "");
  }

  function isSession(block, code) {
    if (block.classList.contains("language-pycon")) return true;
    return /^\s*>>>/.test(code.textContent);
  }

  function mark() {
    var blocks = document.querySelectorAll(".md-typeset div.highlight");
    Array.prototype.forEach.call(blocks, function (block) {
      // "pre > code": with line numbers the first <pre> holds the numbers.
      var code = block.querySelector("pre > code");
      var pre = code && code.parentElement;
      if (!code || pre.hasAttribute("data-copy") || !isSession(block, code)) return;
      pre.setAttribute("data-copy", runnable(code.textContent));
    });
  }

  if (typeof window.document$ !== "undefined" && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(mark);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mark);
  } else {
    mark();
  }
})();
