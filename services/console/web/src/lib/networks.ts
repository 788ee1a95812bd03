// The social networks the platform works with: their API ids and the names people read.
// Each page's network rules (reply limits in the case page, post limits in publishing) stay
// with the page; this is only which networks there are and what they are called.
import type { AnalyticsTypes, IngestTypes, PublisherTypes, ResponderTypes } from "../api/client";

/** A network's id as every service's API spells it (the generated `Network` enum). */
export type Network = PublisherTypes["schemas"]["Network"];

// The services share one enum; if one of them ever differs, this stops compiling.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type NetworkEnumsAgree = [
  Assert<Same<Network, AnalyticsTypes["schemas"]["Network"]>>,
  Assert<Same<Network, IngestTypes["schemas"]["Network"]>>,
  Assert<Same<Network, ResponderTypes["schemas"]["AgentIn"]["networks"][number]>>,
];

/** What each network is called. */
export const NETWORK_NAMES: Readonly<Record<Network, string>> = {
  x: "X",
  telegram: "Telegram",
  vk: "VK",
  facebook: "Facebook",
  instagram: "Instagram",
  mastodon: "Mastodon",
  youtube: "YouTube",
  reddit: "Reddit",
};

/** Every network, in the order menus, checklists and composers list them (by use). */
export const NETWORKS: readonly Network[] = ["x", "telegram", "vk", "facebook", "instagram", "mastodon", "youtube", "reddit"];

export function isNetwork(value: unknown): value is Network {
  return typeof value === "string" && Object.hasOwn(NETWORK_NAMES, value);
}

/** "YouTube" for "youtube"; an id it does not know is shown as it is. */
export function networkName(network: string): string {
  return isNetwork(network) ? NETWORK_NAMES[network] : network;
}
