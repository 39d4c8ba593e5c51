/**
 * 401 recovery: the one mechanism, with pluggable steps (`AuthManager.recoveryFor` picks them).
 * API keys and PATs have no steps (a 401 on them is final); managed ChatGPT tokens reload from
 * storage, then refresh (chatgpt/refresh.ts); tokens from a parent app have one step,
 * `external_refresh`, whose asking part the app-server plugs in (it knows JSON-RPC; this does not).
 */
export interface RecoveryStep {
  readonly name: string;
  /** Obtain fresh credentials; resolve true if the failed request should be retried. Throwing ends recovery with that error. */
  attempt(): Promise<boolean>;
}

export type RecoveryMode = "none" | "managed" | "external";

export class UnauthorizedRecovery {
  readonly steps: readonly RecoveryStep[];

  constructor(
    readonly mode: RecoveryMode,
    steps: RecoveryStep[],
  ) {
    this.steps = Object.freeze([...steps]);
  }

  get stepNames(): string[] {
    return this.steps.map((step) => step.name);
  }

  /** Runs send(); on an unauthorized result runs the next step and retries once per successful step; returns the final result. */
  async run<T>(send: () => Promise<T>, isUnauthorized: (result: T) => boolean): Promise<T> {
    let result = await send();
    for (const step of this.steps) {
      if (!isUnauthorized(result)) return result;
      if (await step.attempt()) result = await send();
    }
    return result;
  }
}
