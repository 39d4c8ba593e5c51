import { readFile } from "node:fs/promises";

/** The package version, found by walking up from this module (works from src/ and dist/). */
export async function packageVersion(): Promise<string> {
  for (let url = new URL("./", import.meta.url), depth = 0; depth < 6; depth++, url = new URL("../", url)) {
    try {
      const manifest = JSON.parse(await readFile(new URL("package.json", url), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "codex-auth" && manifest.version) return manifest.version;
    } catch {
      // Not here: keep walking up.
    }
  }
  return "0.0.0";
}
