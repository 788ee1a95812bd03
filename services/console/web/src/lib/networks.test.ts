import { describe, expect, it } from "vitest";
import { REPLY_LIMITS } from "../pages/case/replyLength";
import { MEDIA_LIMITS, POST_TEXT_LIMITS } from "../pages/publishing/networks";
import { NETWORKS, NETWORK_NAMES, isNetwork, networkName } from "./networks";

describe("networks", () => {
  it("lists every named network once, X first", () => {
    expect(new Set(NETWORKS).size).toBe(NETWORKS.length);
    expect([...NETWORKS].sort()).toEqual(Object.keys(NETWORK_NAMES).sort());
    expect(NETWORKS).toHaveLength(8);
    expect(NETWORKS[0]).toBe("x");
  });

  it("names networks as people write them", () => {
    expect(networkName("x")).toBe("X");
    expect(networkName("vk")).toBe("VK");
    expect(networkName("youtube")).toBe("YouTube");
    expect(networkName("myspace")).toBe("myspace");
  });

  it("knows its own ids only", () => {
    expect(isNetwork("telegram")).toBe(true);
    expect(isNetwork("Telegram")).toBe(false);
    expect(isNetwork("toString")).toBe(false);
    expect(isNetwork(undefined)).toBe(false);
  });

  it("has a reply limit and a post limit for every network", () => {
    for (const n of NETWORKS) {
      expect(REPLY_LIMITS[n], `reply limit of ${n}`).toBeGreaterThan(0);
      expect(POST_TEXT_LIMITS[n], `post limit of ${n}`).toBeGreaterThan(0);
      expect(MEDIA_LIMITS[n], `media limit of ${n}`).toBeGreaterThanOrEqual(0);
    }
  });
});
