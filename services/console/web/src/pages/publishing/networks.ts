// Each network's posting rules as the publisher checks them, for the composer's counters,
// warnings and previews.
//
// The figures and the counting mirror services/publisher/src/smm_publisher/domain/content.py
// (POST_TEXT_LIMITS, TELEGRAM_CAPTION_LIMIT, REDDIT_TITLE_LIMIT, MEDIA_LIMITS, LINK_IN_TEXT,
// URL_WEIGHT, post_length, Variant.post_text, check_variant). The publisher's API does not
// serve them, so they are copied here; the server's check stays the authority on save.
// Which networks there are, their order and names are in lib/networks.
import { NETWORK_NAMES, type Network } from "../../lib/networks";

/** The short text that stands for each network's icon. */
export const NETWORK_SHORT: Readonly<Record<Network, string>> = {
  x: "X",
  telegram: "TG",
  vk: "VK",
  facebook: "FB",
  instagram: "IG",
  mastodon: "MA",
  youtube: "YT",
  reddit: "RD",
};

export const POST_TEXT_LIMITS: Record<Network, number> = {
  x: 280,
  mastodon: 500,
  instagram: 2_200,
  telegram: 4_096,
  facebook: 63_206,
  vk: 16_384,
  youtube: 10_000,
  reddit: 40_000,
};
export const TELEGRAM_CAPTION_LIMIT = 1_024;
export const REDDIT_TITLE_LIMIT = 300;
export const MEDIA_LIMITS: Record<Network, number> = {
  x: 4,
  instagram: 10,
  telegram: 10,
  vk: 10,
  mastodon: 4,
  reddit: 20,
  facebook: 10,
  youtube: 0,
};
/** Networks without a link field: the link is appended to the text when posted. */
export const LINK_IN_TEXT: ReadonlySet<Network> = new Set<Network>(["x", "mastodon", "telegram", "youtube"]);
/** Networks that count every URL as URL_WEIGHT characters, whatever its length. */
export const URL_WEIGHTED: ReadonlySet<Network> = new Set<Network>(["x", "mastodon"]);
export const URL_WEIGHT = 23;
const URL = /https?:\/\/\S+/g;

/** Length in code points, as the publisher (Python) counts. */
export function codePoints(text: string): number {
  return Array.from(text).length;
}

/** Python's str.strip() for the whitespace people type. */
function strip(text: string): string {
  return text.replace(/^\s+|\s+$/gu, "");
}

/** What one network gets, as the composer holds it. */
export interface VariantFields {
  text: string;
  mediaUrls: string[];
  link: string;
  /** Reddit only. */
  title: string;
}

/** The text as posted: stripped, with the link appended where the network has no link field. */
export function postText(network: Network, v: Pick<VariantFields, "text" | "link">): string {
  const text = strip(v.text);
  const link = strip(v.link);
  if (link && LINK_IN_TEXT.has(network) && !text.includes(link)) return text ? `${text}\n\n${link}` : link;
  return text;
}

/** The length the network counts for `text`. */
export function postLength(network: Network, text: string): number {
  if (URL_WEIGHTED.has(network)) return codePoints(text.replace(URL, "x".repeat(URL_WEIGHT)));
  return codePoints(text);
}

/** The text limit of a post with `mediaCount` media files (Telegram captions are shorter). */
export function textLimit(network: Network, mediaCount: number): number {
  return network === "telegram" && mediaCount > 0 ? TELEGRAM_CAPTION_LIMIT : POST_TEXT_LIMITS[network];
}

export interface LengthInfo {
  length: number;
  limit: number;
  /** Characters over the limit (0 when within). */
  over: number;
  /** "post" or "caption" (Telegram with media). */
  what: "post" | "caption";
}

export function lengthInfo(network: Network, v: VariantFields): LengthInfo {
  const media = v.mediaUrls.length;
  const limit = textLimit(network, media);
  const length = postLength(network, postText(network, v));
  return { length, limit, over: Math.max(0, length - limit), what: network === "telegram" && media > 0 ? "caption" : "post" };
}

/** The counter's words: "120 / 280 characters" or "25 over the limit of 280". */
export function counterText(info: LengthInfo): string {
  return info.over
    ? `${info.length} / ${info.limit} characters: ${info.over} over the limit, shorten it by ${info.over}`
    : `${info.length} / ${info.limit} characters`;
}

function isHttpUrl(value: string): boolean {
  return /^https?:\/\/[^\s/?#]+[^\s]*$/i.test(value);
}

/** What the publisher would refuse in this variant, in words (empty: nothing). */
export function variantProblems(network: Network, v: VariantFields): string[] {
  const name = NETWORK_NAMES[network];
  const problems: string[] = [];
  for (const url of v.mediaUrls) {
    if (!isHttpUrl(url)) problems.push(`The media link “${url}” must be an http:// or https:// address.`);
  }
  if (strip(v.link) && !isHttpUrl(strip(v.link))) problems.push(`The link must be an http:// or https:// address.`);
  const media = v.mediaUrls.length;
  const maxMedia = MEDIA_LIMITS[network];
  if (media > maxMedia) {
    problems.push(
      maxMedia
        ? `${name} accepts at most ${maxMedia} media files in a post; remove ${media - maxMedia}.`
        : `${name} posts carry no media; remove ${media === 1 ? "the media link" : `the ${media} media links`}.`,
    );
  }
  if (network === "instagram" && media === 0) problems.push("Instagram posts need at least one image.");
  if (!postText(network, v) && media === 0) problems.push(`The ${name} post needs some text or media.`);
  if (network === "reddit") {
    const title = strip(v.title);
    if (!title) problems.push("A Reddit post needs a headline.");
    else if (codePoints(title) > REDDIT_TITLE_LIMIT) {
      problems.push(`Reddit accepts ${REDDIT_TITLE_LIMIT} characters in a headline; shorten it by ${codePoints(title) - REDDIT_TITLE_LIMIT}.`);
    }
  }
  const info = lengthInfo(network, v);
  if (info.over) {
    problems.push(`${name} accepts ${info.limit} characters in a ${info.what}; this one has ${info.length}. Shorten it by ${info.over}.`);
  }
  return problems;
}

export type SegmentKind = "text" | "link" | "hashtag" | "mention";

/** A run of the preview's text: plain, a link, a hashtag or a mention; `over` past the limit. */
export interface Segment {
  kind: SegmentKind;
  text: string;
  over: boolean;
}

const TOKENS = /(https?:\/\/\S+)|(#[\p{L}\p{N}_]+)|(@[\p{L}\p{N}_]+(?:@[\p{L}\p{N}_.-]+)?)/gu;

function tokens(text: string): { kind: SegmentKind; text: string }[] {
  const out: { kind: SegmentKind; text: string }[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKENS)) {
    const at = m.index ?? 0;
    // A # or @ inside a word ("C#", "a@b.c") is not a tag or a mention.
    if (!m[1] && at > 0 && /[\p{L}\p{N}_]/u.test(text[at - 1]!)) continue;
    if (at > last) out.push({ kind: "text", text: text.slice(last, at) });
    out.push({ kind: m[1] ? "link" : m[2] ? "hashtag" : "mention", text: m[0] });
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ kind: "text", text: text.slice(last) });
  return out;
}

/**
 * The text cut into runs for the preview, each marked `over` from where the network's limit
 * is passed (a weighted URL is over as a whole when its 23 characters do not fit).
 */
export function segments(network: Network, text: string, limit: number): Segment[] {
  const out: Segment[] = [];
  let used = 0;
  const push = (kind: SegmentKind, t: string, over: boolean) => {
    if (!t) return;
    const prev = out[out.length - 1];
    if (prev && prev.kind === kind && prev.over === over && kind === "text") prev.text += t;
    else out.push({ kind, text: t, over });
  };
  for (const token of tokens(text)) {
    if (token.kind === "link" && URL_WEIGHTED.has(network)) {
      push("link", token.text, used + URL_WEIGHT > limit);
      used += URL_WEIGHT;
      continue;
    }
    const chars = Array.from(token.text);
    const room = Math.max(0, limit - used);
    if (chars.length <= room) push(token.kind, token.text, false);
    else {
      push(token.kind, chars.slice(0, room).join(""), false);
      push(token.kind, chars.slice(room).join(""), true);
    }
    used += chars.length;
  }
  return out;
}
