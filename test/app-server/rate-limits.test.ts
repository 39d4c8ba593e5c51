import { describe, expect, it } from "vitest";
import { toRateLimitsResponse } from "../../src/app-server/handlers/account-rate-limits.js";
import { validateGetAccountRateLimitsResponse } from "../../src/protocol/index.js";

/** The backend's usage payload in app-server form, checked against what Codex 0.169.0 returned for the same payloads. */
describe("toRateLimitsResponse", () => {
  it("maps windows, credits and plan like Codex", () => {
    const response = toRateLimitsResponse({
      plan_type: "plus",
      rate_limit: {
        allowed: true,
        limit_reached: false,
        primary_window: { used_percent: 42, limit_window_seconds: 18_000, reset_after_seconds: 100, reset_at: 1_735_689_600 },
        secondary_window: { used_percent: 7, limit_window_seconds: 604_800, reset_after_seconds: 1000, reset_at: 1_736_000_000 },
      },
      credits: { has_credits: true, unlimited: false, balance: "12.5" },
    });
    const snapshot = {
      limitId: "codex",
      limitName: null,
      primary: { usedPercent: 42, windowDurationMins: 300, resetsAt: 1_735_689_600 },
      secondary: { usedPercent: 7, windowDurationMins: 10_080, resetsAt: 1_736_000_000 },
      credits: { hasCredits: true, unlimited: false, balance: "12.5" },
      planType: "plus",
      rateLimitReachedType: null,
    };
    expect(response).toEqual({ rateLimits: snapshot, rateLimitsByLimitId: { codex: snapshot } });
    expect(validateGetAccountRateLimitsResponse(response)).toBe(true);
  });

  it("rounds a partial minute up, rounds percentages, and fills gaps with null", () => {
    const response = toRateLimitsResponse(
      {
        plan_type: "weird_plan",
        rate_limit: { allowed: true, limit_reached: false, primary_window: { used_percent: 12.5, limit_window_seconds: 18_001, reset_after_seconds: 60 }, secondary_window: null },
        credits: { has_credits: false, unlimited: true, balance: 3.25 },
      },
      1_000,
    );
    expect(response.rateLimits).toEqual({
      limitId: "codex",
      limitName: null,
      primary: { usedPercent: 13, windowDurationMins: 301, resetsAt: 1_060 },
      secondary: null,
      credits: { hasCredits: false, unlimited: true, balance: "3.25" },
      planType: "unknown",
      rateLimitReachedType: null,
    });
    expect(toRateLimitsResponse({ plan_type: "free" }).rateLimits).toMatchObject({ primary: null, secondary: null, credits: null, planType: "free" });
  });
});
