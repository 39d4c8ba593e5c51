import { validateClientRequest, validateGetAccountParams } from "../../generated/protocol/validators.js";
import { median, type BenchRow } from "../measure.js";

/** Validations per second of the generated standalone validators (one core, median of 5 runs). */
export function benchValidators(): BenchRow[] {
  const request = { id: 42, method: "account/read", params: { refreshToken: false } };
  const invalid = { id: 42, method: "account/read", params: { refreshToken: "yes" } };
  const rate = (validate: (data: unknown) => boolean, data: unknown): number => {
    const iterations = 2_000_000;
    const runs: number[] = [];
    let accepted = 0;
    for (let run = 0; run < 5; run++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) if (validate(data)) accepted++;
      runs.push(iterations / (Number(process.hrtime.bigint() - started) / 1e9));
    }
    if (accepted < 0) throw new Error("unreachable: keeps the loop observable");
    return median(runs);
  };
  const envelope = rate(validateClientRequest, request);
  const params = rate(validateGetAccountParams, request.params);
  const rejected = rate(validateClientRequest, invalid);
  return [
    { suite: "validators", name: "account/read request (envelope + params, ClientRequest)", value: Math.round(envelope), unit: "msg/s", target: "≥ 4,000,000 msg/s", met: envelope >= 4e6 },
    { suite: "validators", name: "account/read params only (GetAccountParams)", value: Math.round(params), unit: "msg/s" },
    { suite: "validators", name: "invalid account/read request (rejected)", value: Math.round(rejected), unit: "msg/s" },
  ];
}
