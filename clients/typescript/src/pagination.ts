/**
 * Cursor pagination as an async iterator.
 *
 * @module
 */

/** One page as the iterator needs it. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Yields every item of every page, starting at `cursor`, until a page has no next cursor. */
export async function* paginate<T>(
  cursor: string | undefined,
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T, void, undefined> {
  let next = cursor;
  do {
    const page = await fetchPage(next);
    yield* page.items;
    next = page.nextCursor ?? undefined;
  } while (next !== undefined);
}
