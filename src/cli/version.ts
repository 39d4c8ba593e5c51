import { readFile } from "node:fs/promises";

/** The package version, found by walking up from this module (works from src/ and dist/). */
export async function packageVersion(): Promise<string> {
  return (await packageVersions()).version;
}

/**
 * Our version and the Codex version whose protocol we serve (`config.codexVersion`, the project's
 * one pin), both from our package.json.
 */
export async function packageVersions(): Promise<{ version: string; codexVersion: string }> {
  for (let url = new URL("./", import.meta.url), depth = 0; depth < 6; depth++, url = new URL("../", url)) {
    try {
      const manifest = JSON.parse(await readFile(new URL("package.json", url), "utf8")) as {
        name?: string;
        version?: string;
        config?: { codexVersion?: unknown };
      };
      if (manifest.name === "codex-auth" && manifest.version) {
        const codexVersion = typeof manifest.config?.codexVersion === "string" ? manifest.config.codexVersion : "0.0.0";
        return { version: manifest.version, codexVersion };
      }
    } catch {
      // Not here: keep walking up.
    }
  }
  return { version: "0.0.0", codexVersion: "0.0.0" };
}
