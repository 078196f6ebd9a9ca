// Swagger UI's copy buttons are icons with no text: give them a name screen readers say.
new MutationObserver(() => {
  for (const button of document.querySelectorAll(".copy-to-clipboard button:not([aria-label])")) {
    button.setAttribute("aria-label", "Copy to clipboard");
  }
}).observe(document.body, { childList: true, subtree: true });
