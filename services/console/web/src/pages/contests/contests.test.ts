import { describe, expect, it } from "vitest";
import {
  authorOfKey,
  contestSteps,
  countEntries,
  emptyForm,
  formFromContest,
  formProblem,
  formToBody,
  ordinal,
  parseList,
  statusText,
  validateForm,
  type Contest,
  type ContestForm,
  type Entry,
} from "./contests";

const ZONE = "Europe/Madrid";

function form(overrides: Partial<ContestForm> = {}): ContestForm {
  return {
    ...emptyForm(Date.UTC(2026, 0, 10, 9, 20), ZONE),
    title: "Winter giveaway",
    network: "x",
    post_native_id: " 1790012345 ",
    hashtag: "#AcmeGiveaway",
    ...overrides,
  };
}

function contest(overrides: Partial<Contest> = {}): Contest {
  return {
    id: "c1",
    brand_id: "acme",
    title: "Winter giveaway",
    network: "x",
    post_native_id: "1790",
    thread_native_id: null,
    opens_at: "2026-01-10T10:00:00Z",
    closes_at: "2026-01-17T10:00:00Z",
    methods: ["hashtag", "repost"],
    hashtag: "AcmeGiveaway",
    winner_count: 3,
    min_followers: 10,
    unknown_followers: "accept",
    min_account_age_days: 0,
    unknown_account_age: "reject",
    blocked: ["@troll", "123"],
    employees: [],
    status: "draft",
    commitment: null,
    winners: [],
    created_at: "2026-01-01T10:00:00Z",
    version: 2,
    ...overrides,
  };
}

describe("the set-up form", () => {
  it("starts at the next full hour in the user's zone and runs a week", () => {
    const f = emptyForm(Date.UTC(2026, 0, 10, 9, 20), ZONE);
    expect(f.opens_at).toBe("2026-01-10T11:00");
    expect(f.closes_at).toBe("2026-01-17T11:00");
    expect(f.methods).toEqual(["hashtag"]);
    expect(f.winner_count).toBe("1");
  });

  it("maps to the API body: trimmed, times in UTC, lists split, hashtag without #", () => {
    const body = formToBody(
      form({ blocked: "@troll\n 123 , @troll\n\n", methods: ["repost", "hashtag"], winner_count: " 5 " }),
      "acme",
      ZONE,
    );
    expect(body).toEqual({
      brand_id: "acme",
      title: "Winter giveaway",
      network: "x",
      post_native_id: "1790012345",
      thread_native_id: null,
      opens_at: "2026-01-10T10:00:00.000Z",
      closes_at: "2026-01-17T10:00:00.000Z",
      methods: ["hashtag", "repost"],
      hashtag: "AcmeGiveaway",
      winner_count: 5,
      min_followers: 0,
      unknown_followers: "accept",
      min_account_age_days: 0,
      unknown_account_age: "accept",
      blocked: ["@troll", "123"],
      employees: [],
    });
    expect(formToBody(form({ methods: ["reply"] }), "acme", ZONE).hashtag).toBeNull();
  });

  it("reads times across daylight-saving changes as the publisher does", () => {
    // 02:30 on 25 October happens twice in Madrid: the first (CEST) is meant; 02:30 on
    // 29 March is skipped: it moves forward to 03:30 CEST.
    const body = formToBody(form({ opens_at: "2026-03-29T02:30", closes_at: "2026-10-25T02:30" }), "acme", ZONE);
    expect(body.opens_at).toBe("2026-03-29T01:30:00.000Z");
    expect(body.closes_at).toBe("2026-10-25T00:30:00.000Z");
    expect(validateForm(form({ opens_at: "2026-02-30T10:00" }), ZONE).opens_at).toMatch(/start to count/);
  });

  it("round-trips a stored contest", () => {
    const c = contest();
    const f = formFromContest(c, ZONE);
    expect(f.hashtag).toBe("#AcmeGiveaway");
    expect(f.opens_at).toBe("2026-01-10T11:00");
    const body = formToBody(f, "acme", ZONE);
    expect(body).toMatchObject({
      opens_at: "2026-01-10T10:00:00.000Z",
      closes_at: "2026-01-17T10:00:00.000Z",
      methods: ["hashtag", "repost"],
      hashtag: "AcmeGiveaway",
      winner_count: 3,
      min_followers: 10,
      unknown_account_age: "reject",
      blocked: ["@troll", "123"],
    });
  });

  it("accepts a valid form", () => {
    expect(validateForm(form(), ZONE)).toEqual({});
  });

  it("names each mistake in words", () => {
    const errors = validateForm(
      form({
        network: "",
        post_native_id: "  ",
        closes_at: "2026-01-09T10:00",
        hashtag: "#two words",
        winner_count: "0",
        min_followers: "-3",
        min_account_age_days: "1.5",
      }),
      ZONE,
    );
    expect(errors).toEqual({
      network: "Choose the network the contest post is on.",
      post_native_id: "Enter the id of the contest post.",
      closes_at: "The contest must close after it opens.",
      hashtag: "A hashtag holds only letters, digits and _ (no spaces or punctuation).",
      winner_count: "Enter a whole number from 1 to 1000.",
      min_followers: "Enter a whole number, 0 for no minimum.",
      min_account_age_days: "Enter a whole number of days from 0 to 36500, 0 for no minimum.",
    });
    expect(validateForm(form({ methods: [] }), ZONE).methods).toBe("Choose at least one way to enter.");
    expect(validateForm(form({ hashtag: "" }), ZONE).hashtag).toMatch(/needs the hashtag/);
    expect(validateForm(form({ hashtag: "#ConcursoÁcme_2" }), ZONE).hashtag).toBeUndefined();
    expect(validateForm(form({ opens_at: "" }), ZONE).opens_at).toMatch(/start to count/);
    expect(validateForm(form({ blocked: "x".repeat(300) }), ZONE).blocked).toMatch(/too long/);
  });

  it("parses lists one per line or comma, without blanks or repeats", () => {
    expect(parseList(" a, b\n\nc \n a ")).toEqual(["a", "b", "c"]);
    expect(parseList("")).toEqual([]);
  });
});

describe("the API's refusals on the form", () => {
  it("puts 422 validation details on their fields in words", () => {
    const problem = formProblem({
      status: 422,
      code: "request.invalid",
      message: "The request is not valid",
      details: [
        { loc: ["body", "winner_count"], msg: "Input should be less than or equal to 1000", type: "less_than_equal" },
        { loc: ["body", "methods"], msg: "List should have at least 1 item after validation, not 0", type: "too_short" },
        { loc: ["body", "blocked", 2], msg: "String should have at most 256 characters", type: "string_too_long" },
        { loc: ["body", "network"], msg: "Field required", type: "missing" },
        { loc: ["body", "version"], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" },
      ],
    });
    expect(problem.fields).toEqual({
      winner_count: "Enter 1000 or less.",
      methods: "Choose at least one way to enter.",
      blocked: "Line 3: Use at most 256 characters.",
      network: "Choose the network.",
    });
    expect(problem.general).toBe("version: Input should be greater than or equal to 1");
  });

  it("finds the field of a domain refusal from its message", () => {
    expect(
      formProblem({ status: 422, code: "contest.invalid", message: "A contest must close after it opens." }),
    ).toEqual({ fields: { closes_at: "A contest must close after it opens." }, general: null });
    expect(
      formProblem({ status: 422, code: "contest.invalid", message: "'a b' is not a hashtag: use letters, digits and _." })
        .fields.hashtag,
    ).toMatch(/not a hashtag/);
  });

  it("keeps other refusals whole", () => {
    const conflict = { status: 409, code: "contest.version_conflict", message: "The contest changed since you read it" };
    expect(formProblem(conflict)).toEqual({ fields: {}, general: conflict.message });
  });
});

describe("the steps of a contest", () => {
  const all = { write: true, approve: true };
  const before = Date.parse("2026-01-12T00:00:00Z");
  const after = Date.parse("2026-01-18T00:00:00Z");
  const fmt = (iso: string) => iso.slice(0, 10);
  const view = (steps: ReturnType<typeof contestSteps>) => steps.map((s) => [s.label, s.state, s.enabled]);

  it("opens a draft, then draws after the close, then announces", () => {
    expect(view(contestSteps(contest(), before, all, fmt))).toEqual([
      ["Open", "now", true],
      ["Draw winners", "later", false],
      ["Announce", "later", false],
    ]);
    const open = contest({ status: "open", commitment: "a".repeat(64), opened_at: "2026-01-10T09:00:00Z" });
    const steps = contestSteps(open, before, all, fmt);
    expect(view(steps)).toEqual([
      ["Open", "done", false],
      ["Draw winners", "later", false],
      ["Announce", "later", false],
    ]);
    expect(steps[0]!.doneAt).toBe("2026-01-10T09:00:00Z");
    expect(steps[1]!.reason).toBe("Entries close 2026-01-17; the winners can be drawn after that.");
    // Open past its close (the close timer not run yet): the draw closes it in the same write.
    expect(view(contestSteps(open, after, all, fmt))[1]).toEqual(["Draw winners", "now", true]);
    expect(view(contestSteps(contest({ status: "closed" }), after, all, fmt))[1]).toEqual(["Draw winners", "now", true]);
    expect(view(contestSteps(contest({ status: "drawn" }), after, all, fmt))).toEqual([
      ["Open", "done", false],
      ["Draw winners", "done", false],
      ["Announce", "now", true],
    ]);
    expect(contestSteps(contest({ status: "announced" }), after, all, fmt).every((s) => s.state === "done" && !s.enabled)).toBe(true);
  });

  it("says why an action cannot be done", () => {
    expect(contestSteps(contest(), after, all, fmt)[0]!.reason).toMatch(/window ended 2026-01-17: edit the dates/);
    expect(contestSteps(contest(), before, { write: false, approve: false }, fmt)[0]!.reason).toMatch(/content:write/);
    const closed = contestSteps(contest({ status: "closed" }), after, { write: true, approve: false }, fmt)[1]!;
    expect([closed.enabled, closed.reason]).toEqual([false, "Only SMM managers and admins can draw (it needs content:approve)."]);
    expect(contestSteps(contest(), before, all, fmt)[2]!.reason).toBe("Draw the winners first.");
  });

  it("tells an open contest's state for now", () => {
    const open = contest({ status: "open" });
    expect(statusText(open, Date.parse("2026-01-09T00:00:00Z"))).toBe("Open, entries not counting yet");
    expect(statusText(open, before)).toBe("Open, taking entries");
    expect(statusText(open, after)).toBe("Open, closing now");
    expect(statusText(contest({ status: "drawn" }), after)).toBe("Winners drawn");
  });
});

describe("entries", () => {
  const entry = (code: string, withdrawn = false): Pick<Entry, "decision" | "withdrawn"> => ({
    decision: { code, eligible: code === "eligible", message: "" },
    withdrawn,
  });

  it("counts valid and invalid entries, with reasons by frequency", () => {
    const c = countEntries([
      entry("eligible"),
      entry("eligible"),
      entry("entry.duplicate"),
      entry("entry.missing_hashtag"),
      entry("entry.missing_hashtag"),
      entry("entry.withdrawn", true),
    ]);
    expect(c).toEqual({
      total: 6,
      counting: 2,
      notCounting: 4,
      reasons: [
        { code: "entry.missing_hashtag", label: "Hashtag missing", count: 2 },
        { code: "entry.duplicate", label: "Author already entered (one entry each)", count: 1 },
        { code: "entry.withdrawn", label: "Withdrawn: deleted before the draw", count: 1 },
      ],
    });
  });

  it("names a winner by handle where an entry tells it", () => {
    const entries = [{ author_key: "x|42", author_handle: "ana" }, { author_key: "x|7", author_handle: null }];
    expect(authorOfKey("x|42", entries)).toBe("@ana on X");
    expect(authorOfKey("x|7", entries)).toBe("author 7 on X");
    expect(authorOfKey("reddit|a|b", [])).toBe("author a|b on Reddit");
  });

  it("writes prize ranks", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal)).toEqual([
      "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]);
  });
});
