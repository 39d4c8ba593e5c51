import { readFileSync } from "node:fs";
import os from "node:os";

/** What the server reports about the machine it runs on (initialize result and user agent). */
export interface HostInfo {
  /** `Debian 12.0.0`, `Mac OS 14.5.0`, ... */
  osDescription: string;
  /** `x86_64`, `aarch64`, ... */
  arch: string;
  /** The terminal the server was started from: `$TERM_PROGRAM[/version]`, `$TERM` or `unknown`. */
  terminal: string;
  platformFamily: "unix" | "windows";
  platformOs: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function describeHost(env: Env = process.env): HostInfo {
  // process.platform and process.arch are what os.platform() and os.arch() return; `node:os` is
  // loaded (the build defers it to first use) only where os-release cannot tell the version.
  const platform = process.platform;
  return {
    osDescription: describeOs(platform),
    arch: ({ x64: "x86_64", arm64: "aarch64", ia32: "x86", arm: "arm" } as Record<string, string>)[process.arch] ?? process.arch,
    terminal: describeTerminal(env),
    platformFamily: platform === "win32" ? "windows" : "unix",
    platformOs: platform === "darwin" ? "macos" : platform === "win32" ? "windows" : platform,
  };
}

/** Codex's shape: the distribution's short name and a three-part version. */
function describeOs(platform: NodeJS.Platform): string {
  if (platform === "linux") {
    try {
      const fields = Object.fromEntries(
        readFileSync("/etc/os-release", "utf8")
          .split("\n")
          .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
          .filter((match): match is RegExpExecArray => match !== null)
          .map((match) => [match[1], match[2]!.replace(/^"(.*)"$/, "$1")]),
      ) as Record<string, string | undefined>;
      const name = fields.NAME?.split(/\s+/)[0];
      if (name) return `${name} ${threePartVersion(fields.VERSION_ID ?? os.release())}`;
    } catch {
      // No os-release: fall through to the kernel.
    }
    return `Linux ${threePartVersion(os.release())}`;
  }
  if (platform === "darwin") return `Mac OS ${threePartVersion(os.release())}`;
  if (platform === "win32") return `Windows ${threePartVersion(os.release())}`;
  return `${os.type()} ${threePartVersion(os.release())}`;
}

function threePartVersion(raw: string): string {
  const parts = (raw.match(/\d+/g) ?? []).slice(0, 3);
  while (parts.length < 3) parts.push("0");
  return parts.map((part) => String(Number(part))).join(".");
}

function describeTerminal(env: Env): string {
  const program = env.TERM_PROGRAM?.trim();
  if (program) {
    const version = env.TERM_PROGRAM_VERSION?.trim();
    return version ? `${program}/${version}` : program;
  }
  return env.TERM?.trim() || "unknown";
}
