// The console's only script, and an optional one: every page works without it. It asks before a
// form marked data-confirm is sent, and checks a corrected body is JSON before sending it.
/* global document, window, HTMLFormElement */
'use strict'

document.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement)) return
  const question = form.getAttribute('data-confirm')
  if (question && !window.confirm(question)) {
    event.preventDefault()
    return
  }
  if (form.hasAttribute('data-json-form')) {
    const text = form.querySelector('textarea')
    const error = form.querySelector('.json-error')
    try {
      JSON.parse(text.value)
      if (error) error.hidden = true
    } catch (err) {
      event.preventDefault()
      if (error) {
        error.textContent = `Not JSON: ${err.message}`
        error.hidden = false
      }
    }
  }
})

// Times are shown in UTC; hovering one shows it in the browser's own time zone.
for (const el of document.querySelectorAll('time[datetime]')) {
  const d = new Date(el.getAttribute('datetime'))
  if (!Number.isNaN(d.getTime())) el.title = d.toLocaleString()
}
