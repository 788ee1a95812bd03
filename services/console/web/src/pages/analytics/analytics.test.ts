import { describe, expect, it } from "vitest";
import {
  alertHeadline,
  allZero,
  attachmentName,
  bestTimesGrid,
  csvUrl,
  engagementTotals,
  postLabel,
  type Post,
  fieldOf,
  hourNames,
  mergeAlerts,
  severityTone,
  slotsOf,
  sortAlerts,
  weekdayNames,
  type Alert,
  type Series,
} from "./data";
import { RANGES, rangeWindow, readFilters, withFilter } from "./filters";

describe("filters", () => {
  it("reads the range and network from the address, with defaults", () => {
    expect(readFilters(new URLSearchParams("range=30d&network=vk"))).toMatchObject({ range: { key: "30d" }, network: "vk" });
    expect(readFilters(new URLSearchParams("range=5y&network=myspace"))).toMatchObject({ range: { key: "7d" }, network: null });
  });
  it("leaves defaults out of the address", () => {
    const s = withFilter(new URLSearchParams("range=30d&network=vk"), "range", "7d");
    expect(s.toString()).toBe("network=vk");
    expect(withFilter(s, "network", "").toString()).toBe("");
    expect(withFilter(s, "range", "90d").get("range")).toBe("90d");
  });
  it("covers whole hours up to the end of the current one", () => {
    const now = Date.UTC(2026, 10, 27, 14, 25);
    const day = rangeWindow(RANGES[0]!, now);
    expect(day).toEqual({ from: "2026-11-26T15:00:00.000Z", to: "2026-11-27T15:00:00.000Z", granularity: "hour" });
    // On the hour itself, the hour just starting is the last slot.
    expect(rangeWindow(RANGES[0]!, Date.UTC(2026, 10, 27, 15)).to).toBe("2026-11-27T16:00:00.000Z");
    expect(rangeWindow(RANGES[1]!, now).from).toBe("2026-11-20T15:00:00.000Z");
  });
  it("covers whole UTC days for the long ranges", () => {
    const now = Date.UTC(2026, 10, 27, 14, 25);
    expect(rangeWindow(RANGES[2]!, now)).toEqual({ from: "2026-10-29T00:00:00.000Z", to: "2026-11-28T00:00:00.000Z", granularity: "day" });
    const w = rangeWindow(RANGES[3]!, now);
    expect((Date.parse(w.to) - Date.parse(w.from)) / 86_400_000).toBe(90);
  });
});

const series: Series = {
  brand_id: "b",
  metric: "mentions",
  granularity: "hour",
  start: "2026-11-27T10:00:00Z",
  end: "2026-11-27T12:00:00Z",
  fields: ["count", "negative"],
  totals: { count: 3, negative: 0 },
  points: [
    { slot: "2026-11-27T10", start: "2026-11-27T10:00:00Z", values: { count: 0, negative: 0 } },
    { slot: "2026-11-27T11", start: "2026-11-27T11:00:00Z", values: { count: 3, negative: null } },
  ],
};

describe("series", () => {
  it("reads slots and fields", () => {
    expect(slotsOf(series.points)).toEqual([Date.UTC(2026, 10, 27, 10), Date.UTC(2026, 10, 27, 11)]);
    expect(fieldOf(series, "negative")).toEqual([0, null]);
    expect(fieldOf(series, "missing")).toEqual([null, null]);
  });
  it("tells an empty window from a quiet one", () => {
    expect(allZero(series, ["count"])).toBe(false);
    expect(allZero(series, ["negative"])).toBe(true);
  });
});

function alert(id: string, status: Alert["status"], peak: Alert["peak_severity"], last: string): Alert {
  return {
    id,
    brand_id: "b",
    kind: "rising_term",
    subject: "#launch",
    status,
    severity: peak,
    peak_severity: peak,
    opened_at: last,
    last_detected_at: last,
    observed: 10,
    expected: 2,
    ratio: 5,
    peak_observed: 10,
    detections: 1,
    top_terms: [],
    sample_mention_ids: [],
    networks: [],
  };
}

describe("alerts", () => {
  const older = "2026-11-27T10:00:00Z";
  const newer = "2026-11-27T12:00:00Z";
  it("puts open episodes first, the worst and newest on top", () => {
    const sorted = sortAlerts([
      alert("closed-new", "closed", "critical", newer),
      alert("open-low-new", "open", "low", newer),
      alert("open-high-old", "open", "high", older),
      alert("closed-old", "closed", "low", older),
      alert("open-low-old", "open", "low", older),
    ]);
    expect(sorted.map((a) => a.id)).toEqual(["open-high-old", "open-low-new", "open-low-old", "closed-new", "closed-old"]);
  });
  it("replaces an updated episode by id", () => {
    const merged = mergeAlerts([alert("a", "open", "low", older), alert("b", "open", "low", newer)], [alert("a", "closed", "low", older)]);
    expect(merged.map((a) => `${a.id}:${a.status}`)).toEqual(["b:open", "a:closed"]);
  });
  it("names and tones episodes in words", () => {
    expect(alertHeadline({ kind: "rising_term", subject: "#launch" })).toBe("Rising term: #launch");
    expect(alertHeadline({ kind: "negative_spike", subject: "negative" })).toBe("Negative spike");
    expect(severityTone("critical")).toBe("danger");
    expect(severityTone("low")).toBe("info");
  });
});

describe("best times", () => {
  it("fills the week grid, marking the best and the thin slots", () => {
    const slot = (weekday: number, hour: number, posts: number, engagements: number) => ({
      weekday,
      hour,
      day: "",
      posts,
      engagements,
      average_engagements: engagements / posts,
    });
    const grid = bestTimesGrid({ min_posts: 3, slots: [slot(0, 9, 4, 40), slot(6, 23, 1, 5)], best: [slot(0, 9, 4, 40)] });
    expect(grid).toHaveLength(7);
    expect(grid[0]).toHaveLength(24);
    expect(grid[0]![9]).toEqual({ average: 10, posts: 4, engagements: 40, best: true, thin: false });
    expect(grid[6]![23]).toMatchObject({ average: 5, thin: true, best: false });
    expect(grid[3]![3]!.average).toBeNull();
  });
  it("names weekdays from Monday and the hours of a day", () => {
    expect(weekdayNames("short", "en-US")).toEqual(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
    expect(hourNames("en-GB")[0]).toBe("00:00");
    expect(hourNames("en-GB")).toHaveLength(24);
  });
});

describe("CSV downloads", () => {
  it("builds the proxied URL without empty filters", () => {
    expect(csvUrl("/v1/metrics/series", { brand_id: "acme", metric: "mentions", network: null, limit: 10 })).toBe(
      "/api/analytics/v1/metrics/series?brand_id=acme&metric=mentions&limit=10&format=csv",
    );
  });
  it("repeats list parameters and never sends the JSON format", () => {
    expect(csvUrl("/v1/metrics/series", { fields: ["p50_s", "p90_s"], format: "json", brand_id: "a b" })).toBe(
      "/api/analytics/v1/metrics/series?fields=p50_s&fields=p90_s&brand_id=a+b&format=csv",
    );
  });
  it("takes the file name from the answer", () => {
    expect(attachmentName('attachment; filename="acme-mentions-hour-20261127T10.csv"', "x.csv")).toBe(
      "acme-mentions-hour-20261127T10.csv",
    );
    expect(attachmentName(null, "x.csv")).toBe("x.csv");
    expect(attachmentName("attachment", "x.csv")).toBe("x.csv");
  });
});

function post(over: Partial<Post>): Post {
  return {
    network: "vk",
    native_id: "1",
    url: null,
    content_id: null,
    campaign_id: null,
    title: null,
    account_id: null,
    published_at: null,
    observed_at: null,
    likes: null,
    comments: null,
    shares: null,
    views: null,
    clicks: null,
    engagements: null,
    engagement_rate: null,
    ...over,
  };
}

describe("content", () => {
  it("names posts by title or by network and id", () => {
    expect(postLabel(post({ title: " Launch day " }), (n) => n)).toBe("Launch day");
    expect(postLabel(post({ native_id: "42" }), () => "VK")).toBe("VK post 42");
  });
  it("rates engagement over the posts that report views only", () => {
    const totals = engagementTotals([
      post({ engagements: 10, views: 100, clicks: 2 }),
      post({ engagements: 30 }),
      post({ engagements: null, views: 50 }),
    ]);
    expect(totals).toEqual({ posts: 3, engagements: 40, clicks: 2, rate: 0.1 });
    expect(engagementTotals([post({ engagements: 5 })]).rate).toBeNull();
  });
});
