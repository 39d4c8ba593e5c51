/**
 * npm run codegen          schemas/ → generated/ (types, validators, HTTP clients, method registry)
 * npm run codegen:check    regenerate in memory; exit 1 and list the files that drifted
 * npm run codegen -- --input BUNDLE --out DIR
 *                          types and validators for any draft-07 bundle as Codex writes it (its main
 *                          bundle with the nested v2 namespace, or the v2 one)
 *
 * Everything is generated in memory first: on any error nothing is written. The work is done by
 * scripts/codegen/run.ts.
 */
import { parseArgs } from "node:util";
import { runCodegen } from "./codegen/run.js";

const { values } = parseArgs({
  options: {
    check: { type: "boolean", default: false },
    schemas: { type: "string", default: "schemas" },
    out: { type: "string" },
    input: { type: "string" },
    quiet: { type: "boolean", default: false },
  },
  allowPositionals: false,
});

runCodegen(values, (line) => console.error(line)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("codegen: unexpected failure; nothing was written.");
    console.error(error);
    process.exit(1);
  },
);
