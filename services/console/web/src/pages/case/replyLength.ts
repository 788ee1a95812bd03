// How long a reply is as each network counts it, and whether it fits.
//
// The numbers and the counting mirror the responder's check (services/responder/src/
// smm_responder/domain/replies.py: REPLY_LIMITS, reply_length, check_reply), which refuses
// a reply over the limit: the text is trimmed, code points are counted (not UTF-16 units),
// and on X every link counts as 23 characters.
import { networkName, type Network } from "../../lib/networks";

/** The longest reply each network accepts, in characters (same as the responder's). */
export const REPLY_LIMITS: Readonly<Record<string, number>> = {
  x: 280,
  vk: 16_384,
  facebook: 8_000,
  instagram: 2_200,
  telegram: 4_096,
  youtube: 10_000,
  mastodon: 500,
  reddit: 10_000,
} satisfies Record<Network, number>;

/** How long X counts any link (t.co wrapping). */
export const X_URL_LENGTH = 23;

const URL = /https?:\/\/\S+/g;

/** Code points, as Python's len() counts them (an emoji is 1, not 2). */
function codePoints(text: string): number {
  return Array.from(text).length;
}

/** The length the network counts for the reply (after trimming, as the responder does). */
export function replyLength(network: string, text: string): number {
  const body = text.trim();
  if (network === "x") return codePoints(body.replace(URL, "x".repeat(X_URL_LENGTH)));
  return codePoints(body);
}

export interface LengthCheck {
  length: number;
  /** null when the network is not one we know a limit for. */
  limit: number | null;
  /** Characters over the limit (0 when it fits). */
  over: number;
  /** The counter in words, e.g. "42 of 280 characters" or "Too long for X: …". */
  message: string;
}

/** The reply's length against its network's limit, in words. */
export function checkReplyLength(network: string, text: string): LengthCheck {
  const length = replyLength(network, text);
  const limit = REPLY_LIMITS[network] ?? null;
  if (limit === null) return { length, limit, over: 0, message: `${length} characters` };
  const over = Math.max(0, length - limit);
  const message =
    over > 0
      ? `Too long for ${networkName(network)}: ${length} of ${limit} characters. Shorten it by ${over}.`
      : `${length} of ${limit} characters`;
  return { length, limit, over, message };
}
