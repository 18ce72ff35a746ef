/*
 * Loaded by the queue dashboard (Bull Board) before its own scripts. Opened as
 * http://admin:TOKEN@host/admin/queues/, the page's URL carries the Basic auth credentials, and so
 * does every URL resolved against it; fetch() refuses such a URL (the Fetch standard forbids
 * credentials in a request URL), which is how the board's locale file, loaded with fetch, was never
 * requested and its raw translation keys showed. XHR, which its API calls use, allows them. Fetch
 * URLs are resolved here without the credentials: the browser still sends the ones it was given.
 */

/** Served as a script to the dashboard's page; it runs before the board's own scripts. */
export const FETCH_WITHOUT_CREDENTIALS = `'use strict';
(function () {
  if (typeof window.fetch !== 'function') return
  const nativeFetch = window.fetch.bind(window)
  window.fetch = function (input, init) {
    if (typeof input === 'string' || input instanceof URL) {
      const url = new URL(String(input), document.baseURI)
      if (url.username || url.password) {
        url.username = ''
        url.password = ''
        input = url.href
      }
    }
    return nativeFetch(input, init)
  }
})()
`
