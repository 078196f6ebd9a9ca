// Swagger UI's copy buttons are icons with no text: give them a name screen readers say.
// Its operation groups (h3) and what is inside them (h4, h5) sit one level below the page's
// h1 each: say so, so that heading levels go down one at a time.
new MutationObserver(() => {
  for (const button of document.querySelectorAll(".copy-to-clipboard button:not([aria-label])")) {
    button.setAttribute("aria-label", "Copy to clipboard");
  }
  for (const heading of document.querySelectorAll("#swagger-ui :is(h3, h4, h5):not([aria-level])")) {
    heading.setAttribute("aria-level", String(Number(heading.tagName[1]) - 1));
  }
}).observe(document.body, { childList: true, subtree: true });
