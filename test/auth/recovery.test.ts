import { describe, expect, it } from "vitest";
import { UnauthorizedRecovery, type RecoveryStep } from "../../src/auth/recovery.js";

function step(name: string, outcome: boolean | Error, log: string[]): RecoveryStep {
  return {
    name,
    attempt: async () => {
      log.push(name);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
}

describe("UnauthorizedRecovery", () => {
  it("returns the first result when it is not unauthorized, without running steps", async () => {
    const log: string[] = [];
    const recovery = new UnauthorizedRecovery("managed", [step("reload", true, log)]);
    expect(await recovery.run(async () => 200, (status) => status === 401)).toBe(200);
    expect(log).toEqual([]);
  });

  it("retries once per successful step, in order, until authorized", async () => {
    const log: string[] = [];
    const answers = [401, 401, 200];
    const recovery = new UnauthorizedRecovery("managed", [step("reload", true, log), step("refresh_token", true, log)]);
    const result = await recovery.run(async () => {
      log.push("send");
      return answers.shift()!;
    }, (status) => status === 401);
    expect(result).toBe(200);
    expect(log).toEqual(["send", "reload", "send", "refresh_token", "send"]);
  });

  it("skips the retry for a step that found nothing new, and gives up after the last step", async () => {
    const log: string[] = [];
    const recovery = new UnauthorizedRecovery("managed", [step("reload", false, log), step("refresh_token", true, log)]);
    const result = await recovery.run(async () => {
      log.push("send");
      return 401;
    }, (status) => status === 401);
    expect(result).toBe(401);
    expect(log).toEqual(["send", "reload", "refresh_token", "send"]);
  });

  it("has no steps for API keys and PATs: a 401 is final", async () => {
    let sends = 0;
    const recovery = new UnauthorizedRecovery("none", []);
    expect(await recovery.run(async () => (sends++, 401), () => true)).toBe(401);
    expect(sends).toBe(1);
    expect(recovery.stepNames).toEqual([]);
  });

  it("ends with the error of a step that throws", async () => {
    const recovery = new UnauthorizedRecovery("external", [step("external_refresh", new Error("parent app did not answer"), [])]);
    await expect(recovery.run(async () => 401, () => true)).rejects.toThrow("parent app did not answer");
  });
});
