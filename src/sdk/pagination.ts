/**
 * Page iteration: walk every page of an offset/limit listing.
 *
 * @example
 * ```ts
 * import { iteratePages } from "@recapture/sdk";
 * const data = ["a", "b", "c"];
 * const pages = (offset: number, limit: number) =>
 *   Promise.resolve({ items: data.slice(offset, offset + limit), total: data.length });
 * for await (const x of iteratePages(pages, { pageSize: 2 })) console.log(x);
 * ```
 * @module
 */

/** One page as {@link iteratePages} needs it. */
export interface PageSlice<T> {
  /** The items on this page. */
  items: T[];
  /** How many items match in all, when known; without it, paging ends at an empty page. */
  total?: number | null;
}

/** Options for {@link iteratePages}. */
export interface IteratePagesOptions {
  /** Items per page (default 100). */
  pageSize?: number;
  /** Stop between pages when this aborts. */
  signal?: AbortSignal;
}

/**
 * Yields every item of every page, fetching the next page only when the previous one is used
 * up. Stops at `total` when pages say it, else only at the first empty page (a short page is
 * not taken as the last: a server may cap its pages below the size asked for).
 *
 * @example
 * ```ts
 * import { iteratePages } from "@recapture/sdk";
 * const fetchPage = (offset: number, limit: number) =>
 *   Promise.resolve({ items: [offset, offset + 1].slice(0, limit), total: 4 });
 * const all = [];
 * for await (const n of iteratePages(fetchPage, { pageSize: 2 })) all.push(n);
 * console.log(all); // [0, 1, 2, 3]
 * ```
 */
export async function* iteratePages<T>(
  fetchPage: (offset: number, limit: number) => Promise<PageSlice<T>>,
  options?: IteratePagesOptions,
): AsyncGenerator<T, void, undefined> {
  const pageSize = options?.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  }
  let offset = 0;
  while (true) {
    options?.signal?.throwIfAborted();
    const page = await fetchPage(offset, pageSize);
    for (const item of page.items) yield item;
    offset += page.items.length;
    if (page.items.length === 0) return;
    if (typeof page.total === "number" && offset >= page.total) return;
  }
}
