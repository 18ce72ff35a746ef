export const DEFAULT_PAGE_SIZE = 100
/** Safety net: a server that never returns a short page must not keep a worker busy forever. */
export const DEFAULT_MAX_PAGES = 1000

export interface PageWalkOptions {
  /** Items per page. Default 100. */
  perPage?: number
  /** Stop after this many pages. Default 1000. */
  maxPages?: number
}

/**
 * Walks pages 1, 2, 3… until one is empty or shorter than `perPage`. An item whose id was
 * already yielded is skipped, and a page with nothing new ends the walk: that is what a server
 * which ignores `page` looks like, and it must not loop or yield duplicates.
 */
export async function * walkPages<T extends { id: unknown }> (
  fetchPage: (page: number, perPage: number) => Promise<T[]>,
  options: PageWalkOptions
): AsyncGenerator<T, void, undefined> {
  const perPage = options.perPage ?? DEFAULT_PAGE_SIZE
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES
  if (!Number.isInteger(perPage) || perPage < 1) throw new TypeError('perPage must be a positive integer')
  if (!Number.isInteger(maxPages) || maxPages < 1) throw new TypeError('maxPages must be a positive integer')
  const seen = new Set<unknown>()
  for (let page = 1; page <= maxPages; page++) {
    const items = await fetchPage(page, perPage)
    let fresh = 0
    for (const item of items) {
      if (seen.has(item.id)) continue
      seen.add(item.id)
      fresh++
      yield item
    }
    if (items.length < perPage || fresh === 0) return
  }
}

/** Accepts a bare array or a `{ data: [...] }` envelope; anything else is undefined. */
export function listFrom (body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body
  if (body !== null && typeof body === 'object' && Array.isArray((body as { data?: unknown }).data)) {
    return (body as { data: unknown[] }).data
  }
  return undefined
}
