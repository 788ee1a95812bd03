// The inbox's list: the first page (plus the breached cases when sorting by deadline), more
// pages on demand, and refetches that keep what is shown until the new answer arrives.
import { useCallback, useEffect, useRef, useState } from "react";
import { ok, responder } from "../../api/client";
import { firstPageQueries, listQuery, mergeCases, type InboxFilters, type ListQuery } from "./filters";
import type { CaseOut } from "./format";

export const PAGE_SIZE = 50;
const MAX_REFETCH = 200;

interface ListState {
  cases: CaseOut[];
  /** Cases the paged list returned so far (a refetch asks for as many again). */
  mainCount: number;
  nextCursor: string | null;
  loading: boolean;
  loadingMore: boolean;
  error: unknown;
  loaded: boolean;
}

const EMPTY: ListState = {
  cases: [],
  mainCount: 0,
  nextCursor: null,
  loading: true,
  loadingMore: false,
  error: null,
  loaded: false,
};

function page(query: ListQuery) {
  return ok(responder.GET("/v1/cases", { params: { query } }));
}

export function useCases(brand: string, meId: string, filters: InboxFilters) {
  const [state, setState] = useState<ListState>(EMPTY);
  const seq = useRef(0);
  const current = useRef(state);
  current.current = state;
  // Everything but the text search (done in the browser) decides what to fetch.
  const key = JSON.stringify([brand, meId, { ...filters, q: "" }]);
  const params = useRef({ brand, meId, filters });
  params.current = { brand, meId, filters };

  /** Fetch the first `limit` cases again; resolves to the new list (null if superseded or failed). */
  const fetchFirst = useCallback(async (limit: number, fresh: boolean): Promise<CaseOut[] | null> => {
    const mine = ++seq.current;
    const { brand: b, meId: m, filters: f } = params.current;
    // Another brand's cases must not stay on screen; other filters keep the old rows (marked
    // busy) until the answer arrives, so the table does not flicker and focus is not lost.
    if (fresh) setState({ ...EMPTY });
    else setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const { main, breached } = firstPageQueries(f, b, m, limit);
      const [first, late] = await Promise.all([page(main), breached ? page(breached) : null]);
      if (mine !== seq.current) return null;
      const cases = mergeCases(late?.items ?? [], first.items);
      setState({
        cases,
        mainCount: first.items.length,
        nextCursor: first.next_cursor ?? null,
        loading: false,
        loadingMore: false,
        error: null,
        loaded: true,
      });
      return cases;
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ ...s, loading: false, loadingMore: false, error }));
      return null;
    }
  }, []);

  const shownBrand = useRef(brand);
  useEffect(() => {
    const otherBrand = shownBrand.current !== brand;
    shownBrand.current = brand;
    void fetchFirst(PAGE_SIZE, otherBrand || !current.current.loaded);
    // `key` holds brand, user and filters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, fetchFirst]);

  /** Refetch what is shown (as many cases as are loaded, up to 200), keeping it meanwhile. */
  const refresh = useCallback(
    () => fetchFirst(Math.min(MAX_REFETCH, Math.max(PAGE_SIZE, current.current.mainCount)), false),
    [fetchFirst],
  );

  const loadMore = useCallback(async () => {
    const { nextCursor, loadingMore } = current.current;
    if (!nextCursor || loadingMore) return;
    const mine = seq.current;
    const { brand: b, meId: m, filters: f } = params.current;
    setState((s) => ({ ...s, loadingMore: true }));
    try {
      const more = await page(listQuery(f, b, m, { limit: PAGE_SIZE, cursor: nextCursor }));
      if (mine !== seq.current) return;
      setState((s) => ({
        ...s,
        cases: mergeCases(s.cases, more.items),
        mainCount: s.mainCount + more.items.length,
        nextCursor: more.next_cursor ?? null,
        loadingMore: false,
        error: null,
      }));
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ ...s, loadingMore: false, error }));
    }
  }, []);

  return { ...state, refresh, loadMore };
}
