import { afterAll, afterEach, beforeEach } from "vitest";
import { runCodexAuth, tempDir, type CliResult, type CliRun, type TempDir } from "./cli-process.js";
import { CapturedStreams } from "./secrets.js";

/**
 * Per-file harness for CLI tests: a fresh CODEX_HOME per test, and every stream of every run kept
 * so that, after the file, one scan asserts none of the secrets the tests used ever appeared.
 */
export interface CliHarness {
  /** The current test's CODEX_HOME. */
  readonly home: string;
  /** Runs `codex-auth <args>` with CODEX_HOME set (plus `env`), recording its output. */
  run(args: readonly string[], run?: CliRun): Promise<CliResult>;
  /** Registers a secret the file's final scan must not find anywhere. */
  secret(value: string): string;
  readonly captured: CapturedStreams;
}

export function useCliHarness(baseEnv: () => Record<string, string | undefined> = () => ({})): CliHarness {
  let home: TempDir | null = null;
  const captured = new CapturedStreams();
  const secrets = new Set<string>();
  beforeEach(() => {
    home = tempDir();
  });
  afterEach(() => {
    home?.remove();
    home = null;
  });
  afterAll(() => {
    captured.assertNoSecrets([...secrets]);
  });
  return {
    get home() {
      if (!home) throw new Error("no test is running");
      return home.dir;
    },
    captured,
    secret(value) {
      secrets.add(value);
      return value;
    },
    async run(args, run = {}) {
      const env = { ...baseEnv(), CODEX_HOME: home?.dir, ...run.env };
      const result = await runCodexAuth(args, { ...run, env });
      const label = `codex-auth ${args.join(" ")}`;
      captured.add(`${label} stdout`, result.stdout);
      captured.add(`${label} stderr`, result.stderr);
      return result;
    },
  };
}
