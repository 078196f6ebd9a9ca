// NHS.UK frontend's components: the header's "More" menu on narrow screens, character
// counts, error summaries. Pages work without it; it only improves them.
import { initAll } from './nhsuk/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()

// "Print" buttons are shown only where a script can print.
for (const button of document.querySelectorAll('[data-print]')) {
  button.hidden = false
  button.addEventListener('click', () => window.print())
}
