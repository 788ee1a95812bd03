// The publisher's contest calls this page makes (typed from openapi/publisher.json).
import { ok, publisher } from "../../api/client";
import type { Certificate, Contest, ContestIn, Entry } from "./contests";

export const PAGE_SIZE = 200;

export async function listContests(brandId: string, status: Contest["status"] | "", cursor: string | null) {
  return ok(
    publisher.GET("/v1/contests", {
      params: { query: { brand_id: brandId, status: status || undefined, cursor: cursor ?? undefined, limit: 50 } },
    }),
  );
}

export async function getContest(contestId: string): Promise<Contest> {
  return ok(publisher.GET("/v1/contests/{contest_id}", { params: { path: { contest_id: contestId } } }));
}

export async function createContest(body: ContestIn): Promise<Contest> {
  return ok(publisher.POST("/v1/contests", { body }));
}

export async function replaceContest(contestId: string, body: ContestIn, version: number): Promise<Contest> {
  return ok(
    publisher.PUT("/v1/contests/{contest_id}", {
      params: { path: { contest_id: contestId } },
      body: { ...body, version },
    }),
  );
}

export async function openContest(contestId: string): Promise<Contest> {
  return ok(publisher.POST("/v1/contests/{contest_id}/open", { params: { path: { contest_id: contestId } } }));
}

export async function drawContest(contestId: string): Promise<Certificate> {
  return ok(publisher.POST("/v1/contests/{contest_id}/draw", { params: { path: { contest_id: contestId } } }));
}

export async function announceContest(contestId: string): Promise<Contest> {
  return ok(publisher.POST("/v1/contests/{contest_id}/announce", { params: { path: { contest_id: contestId } } }));
}

export async function getCertificate(contestId: string): Promise<Certificate> {
  return ok(
    publisher.GET("/v1/contests/{contest_id}/certificate", { params: { path: { contest_id: contestId } } }),
  );
}

export interface EntryList {
  items: Entry[];
  /** False when more entries exist than were read (`maxPages` pages of PAGE_SIZE). */
  complete: boolean;
}

/** A contest's entries in the order made, page after page up to `maxPages`. */
export async function listEntries(contestId: string, maxPages: number): Promise<EntryList> {
  const items: Entry[] = [];
  let cursor: string | null | undefined = undefined;
  for (let page = 0; page < maxPages; page++) {
    const out: { items: Entry[]; next_cursor?: string | null } = await ok(
      publisher.GET("/v1/contests/{contest_id}/entries", {
        params: { path: { contest_id: contestId }, query: { limit: PAGE_SIZE, cursor: cursor ?? undefined } },
      }),
    );
    items.push(...out.items);
    cursor = out.next_cursor;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: false };
}

/** The brand's published posts with their ids per network, to pick the contest post from. */
export async function publishedPosts(brandId: string) {
  const items = await ok(
    publisher.GET("/v1/content", { params: { query: { brand_id: brandId, status: ["published"], limit: 100 } } }),
  );
  const posts: { title: string; network: string; nativeId: string; url: string | null }[] = [];
  for (const item of items) {
    for (const delivery of Object.values(item.deliveries ?? {})) {
      if (delivery.native_id && delivery.network) {
        posts.push({ title: item.title, network: delivery.network, nativeId: delivery.native_id, url: delivery.url ?? null });
      }
    }
  }
  return posts;
}
