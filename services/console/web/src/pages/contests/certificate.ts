// The draw's certificate: recomputed in the browser (Web Crypto: SHA-256 and HMAC-SHA256,
// exactly the steps of smm-contest-draw v1 in docs/publisher.md), explained step by step in
// plain words with the certificate's own values, and the JSON document to download.
import type { Certificate, Contest } from "./contests";
import { formatFullDateTime, ordinal } from "./contests";

export const ALGORITHM = "smm-contest-draw";
export const ALGORITHM_VERSION = 1;

const HEX64 = /^[0-9a-f]{64}$/;
const SPACE = 1n << 256n;

export type CheckId = "algorithm" | "commitment" | "published" | "entries" | "digest" | "winners";

export interface CheckResult {
  id: CheckId;
  ok: boolean;
  /** What was found, in words. */
  detail: string;
}

/** Compare by Unicode code point, as Python's sorted() does (JS's default is UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Whether the keys are sorted by code point, each once, with no line break inside. */
export function isCanonicalList(keys: readonly string[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    if (/[\n]/.test(keys[i]!)) return false;
    if (i > 0 && compareCodePoints(keys[i - 1]!, keys[i]!) >= 0) return false;
  }
  return true;
}

function hex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

function fromHex(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(text.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export async function sha256Hex(subtle: SubtleCrypto, data: Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(await subtle.digest("SHA-256", data));
}

/** Step 3: SHA-256 (hex) of the keys joined by "\n", in UTF-8. */
export async function entryListDigest(subtle: SubtleCrypto, keys: readonly string[]): Promise<string> {
  const encoded = new TextEncoder().encode(keys.join("\n"));
  return sha256Hex(subtle, new Uint8Array(encoded));
}

/** Steps 4-6: the winners in prize order, from the seed (hex) and the sorted keys. */
export async function selectWinners(
  subtle: SubtleCrypto,
  seedHex: string,
  keys: readonly string[],
  winnerCount: number,
): Promise<string[]> {
  const digest = fromHex(await entryListDigest(subtle, keys));
  const key = await subtle.importKey("raw", fromHex(seedHex), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const pool = [...keys];
  const winners: string[] = [];
  const wanted = Math.min(winnerCount, keys.length);
  const message = new Uint8Array(new ArrayBuffer(digest.length + 8));
  message.set(digest);
  const counterView = new DataView(message.buffer, digest.length, 8);
  let counter = 0n;
  while (winners.length < wanted) {
    const m = BigInt(pool.length);
    counterView.setBigUint64(0, counter, false);
    counter += 1n;
    const block = await subtle.sign("HMAC", key, message);
    const x = BigInt(`0x${hex(block)}`);
    if (x >= SPACE - (SPACE % m)) continue; // the incomplete top stretch would favour low indexes
    winners.push(pool.splice(Number(x % m), 1)[0]!);
  }
  return winners;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Recompute the certificate in this browser; null when the browser offers no Web Crypto
 * (pages not served over HTTPS or localhost). `published` is the commitment the contest
 * showed from its opening (ContestOut.commitment).
 */
export async function checkCertificate(
  certificate: Certificate,
  published: string | null | undefined,
  subtle: SubtleCrypto | null = globalThis.crypto?.subtle ?? null,
): Promise<CheckResult[] | null> {
  if (!subtle) return null;
  const results: CheckResult[] = [];
  const algorithmOk = certificate.algorithm === ALGORITHM && certificate.algorithm_version === ALGORITHM_VERSION;
  results.push({
    id: "algorithm",
    ok: algorithmOk,
    detail: algorithmOk
      ? `${ALGORITHM} version ${ALGORITHM_VERSION}, the one described here.`
      : `${certificate.algorithm} version ${certificate.algorithm_version} is not one this page knows.`,
  });
  const seedOk = HEX64.test(certificate.seed);
  const hash = seedOk ? await sha256Hex(subtle, fromHex(certificate.seed)) : null;
  results.push({
    id: "commitment",
    ok: hash !== null && hash === certificate.commitment,
    detail: !seedOk
      ? "The seed is not 64 lower-case hex digits (32 bytes)."
      : hash === certificate.commitment
        ? `SHA-256 of the seed is ${hash}, the certificate's commitment.`
        : `SHA-256 of the seed is ${hash}, not the certificate's commitment ${certificate.commitment}.`,
  });
  results.push({
    id: "published",
    ok: !!published && published === certificate.commitment && hash === published,
    detail: !published
      ? "The contest shows no published commitment to compare with."
      : published === certificate.commitment
        ? "It is the commitment the contest published when it opened."
        : `The contest published ${published} when it opened, a different commitment.`,
  });
  const canonical = isCanonicalList(certificate.entries);
  results.push({
    id: "entries",
    ok: canonical,
    detail: canonical
      ? `${certificate.entries.length} entries, sorted, each author once.`
      : "The entry list is not sorted, repeats an author or holds a line break.",
  });
  const digest = await entryListDigest(subtle, certificate.entries);
  results.push({
    id: "digest",
    ok: digest === certificate.entry_list_digest,
    detail:
      digest === certificate.entry_list_digest
        ? `The list's SHA-256 is ${digest}, as certified.`
        : `The list's SHA-256 is ${digest}, not the certified ${certificate.entry_list_digest}.`,
  });
  let winnersOk = false;
  let winnersDetail = "The winners cannot be redrawn without a valid seed and at least one prize.";
  if (seedOk && certificate.winner_count >= 1) {
    const redrawn = await selectWinners(subtle, certificate.seed, certificate.entries, certificate.winner_count);
    winnersOk = sameList(redrawn, certificate.winners);
    winnersDetail = winnersOk
      ? `Redrawn here: ${redrawn.length ? redrawn.join(", ") : "no winners (no entries)"}, the same and in the same order.`
      : `Redrawn here: ${redrawn.join(", ") || "no winners"}; the certificate says ${certificate.winners.join(", ") || "none"}.`;
  }
  results.push({ id: "winners", ok: winnersOk, detail: winnersDetail });
  return results;
}

// --- in plain words ------------------------------------------------------------------------

export interface Explained {
  id: CheckId;
  title: string;
  text: string;
}

/** How anyone can check the draw, step by step, with this certificate's own values. */
export function howToVerify(
  certificate: Certificate,
  contest: Pick<Contest, "opened_at" | "commitment">,
  format: (iso: string) => string = (iso) => formatFullDateTime(iso),
): Explained[] {
  const n = certificate.entries.length;
  const k = Math.min(certificate.winner_count, n);
  const opened = contest.opened_at ? ` on ${format(contest.opened_at)}` : "";
  const fewer =
    n < certificate.winner_count
      ? ` There were fewer eligible entries (${n}) than prizes (${certificate.winner_count}), so everyone eligible wins; the draw still fixes their order.`
      : "";
  const order = certificate.winners.map((w, i) => `${ordinal(i + 1)} prize ${w}`).join(", ");
  return [
    {
      id: "algorithm",
      title: "Know the method",
      text: `The draw follows ${certificate.algorithm} version ${certificate.algorithm_version}: it needs nothing but SHA-256 and HMAC-SHA256, which every programming language offers, so anyone can redo it.`,
    },
    {
      id: "commitment",
      title: "The seed was fixed before anyone entered",
      text: `Before the contest opened, the system chose a secret random seed (32 bytes). Compute the SHA-256 of those bytes (the seed in hex is ${certificate.seed}): you get ${certificate.commitment}.`,
    },
    {
      id: "published",
      title: "…and published before the entries came in",
      text: `That same value${contest.commitment ? `, ${contest.commitment},` : ""} was published as the contest's commitment when it opened${opened}. Nobody can find another seed with the same SHA-256, so the seed, and with it the draw, could not be changed once entries were in.`,
    },
    {
      id: "entries",
      title: "The list of entries",
      text: `The certificate lists the ${n} eligible ${n === 1 ? "entry" : "entries"}, one per author, each written as "network|author id" and sorted. Each one can be matched to an entry that counts in the entries table, and to a public comment or repost on the contest post.`,
    },
    {
      id: "digest",
      title: "The list cannot be changed without it showing",
      text: `Write the entries one per line (no line break after the last) and compute the SHA-256 of that text in UTF-8: you get ${certificate.entry_list_digest}. Adding, removing or changing any entry changes this value.`,
    },
    {
      id: "winners",
      title: "Redraw the winners",
      text: `For each prize, compute HMAC-SHA256 with the seed as key over the list's SHA-256 (32 bytes) followed by a counter (8 bytes, starting at 0 and going up by one each time). Read the result as a number x; with m entries left in the list, if x is in the top incomplete stretch (x ≥ 2^256 − (2^256 mod m)) skip it so every entry has exactly the same chance, else the winner is entry number (x mod m), counting from 0, and it leaves the list. Doing this ${k} ${k === 1 ? "time" : "times"} gives ${order || "no winners"}.${fewer}`,
    },
  ];
}

/** A short Python script, standard library only, that redoes the check (docs/publisher.md). */
export const PYTHON_CHECK = `import hashlib, hmac, json, sys

# Usage: python check.py certificate.json
certificate = json.load(open(sys.argv[1]))
published_commitment = certificate["published_commitment"]

seed = bytes.fromhex(certificate["seed"])
keys = certificate["entries"]
assert keys == sorted(set(keys)), "the entry list is not sorted or repeats an author"
assert hashlib.sha256(seed).hexdigest() == published_commitment, "not the seed committed to"
digest = hashlib.sha256("\\n".join(keys).encode("utf-8")).hexdigest()
assert digest == certificate["entry_list_digest"], "the entry list was changed"
pool, winners, counter = list(keys), [], 0
while len(winners) < min(certificate["winner_count"], len(keys)):
    m = len(pool)
    block = hmac.new(seed, bytes.fromhex(digest) + counter.to_bytes(8, "big"), hashlib.sha256)
    counter += 1
    x = int.from_bytes(block.digest(), "big")
    if x < 2**256 - 2**256 % m:  # else skipped: no modulo bias
        winners.append(pool.pop(x % m))
assert winners == certificate["winners"], "the winners differ"
print("The draw checks out:", winners)
`;

/** The downloadable certificate: the published fields, plus what ties it to its contest. */
export function certificateDocument(
  certificate: Certificate,
  contest: Pick<Contest, "id" | "title" | "brand_id" | "network" | "post_native_id" | "commitment" | "opened_at" | "opens_at" | "closes_at" | "winner_count">,
): Record<string, unknown> {
  return {
    contest_id: certificate.contest_id,
    algorithm: certificate.algorithm,
    algorithm_version: certificate.algorithm_version,
    seed: certificate.seed,
    commitment: certificate.commitment,
    winner_count: certificate.winner_count,
    entries: [...certificate.entries],
    entry_list_digest: certificate.entry_list_digest,
    winners: [...certificate.winners],
    drawn_at: certificate.drawn_at,
    verified_by_service: certificate.verified,
    published_commitment: contest.commitment ?? null,
    contest: {
      id: contest.id,
      title: contest.title,
      brand_id: contest.brand_id,
      network: contest.network,
      post_native_id: contest.post_native_id,
      opens_at: contest.opens_at,
      closes_at: contest.closes_at,
      opened_at: contest.opened_at ?? null,
    },
    how_to_verify: "docs/publisher.md, 'Verify a draw yourself'; or run the script shown with the certificate.",
  };
}

export function certificateFileName(contestId: string): string {
  return `contest-${contestId.replace(/[^A-Za-z0-9_-]/g, "_")}-certificate.json`;
}
