// Render \( \) and \[ \] math with the vendored KaTeX on every page view
// (Material's instant navigation replaces the page without a reload).
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    throwOnError: true,
  });
});
