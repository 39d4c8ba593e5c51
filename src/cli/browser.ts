import { spawn } from "node:child_process";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Opens a URL in the user's browser, as Codex does with `webbrowser::open`, but only where a browser
 * can plausibly appear: never under CI, never with `CODEX_AUTH_NO_BROWSER` set, and on Linux only
 * with a display (`DISPLAY` or `WAYLAND_DISPLAY`). The opener runs detached with its output
 * discarded; any failure is ignored, since the URL is always printed as well.
 */
export function shouldOpenBrowser(env: Env, platform: NodeJS.Platform = process.platform): boolean {
  if (isSet(env.CODEX_AUTH_NO_BROWSER)) return false;
  if (isSet(env.CI)) return false;
  if (platform === "darwin" || platform === "win32") return true;
  return Boolean(env.DISPLAY?.trim() || env.WAYLAND_DISPLAY?.trim());
}

/** The opener command for a platform: `open` (macOS), `cmd /c start` (Windows), else `xdg-open`. */
export function browserCommand(url: string, platform: NodeJS.Platform = process.platform): { command: string; args: string[] } {
  if (platform === "darwin") return { command: "open", args: [url] };
  // `start` treats its first quoted argument as a window title, hence the empty one.
  if (platform === "win32") return { command: "cmd", args: ["/c", "start", '""', url.replace(/&/g, "^&")] };
  return { command: "xdg-open", args: [url] };
}

/** Returns whether an opener was started (not whether a browser appeared). */
export function openBrowser(url: string, env: Env, platform: NodeJS.Platform = process.platform): boolean {
  if (!shouldOpenBrowser(env, platform)) return false;
  const { command, args } = browserCommand(url, platform);
  try {
    const child = spawn(command, args, { detached: true, stdio: "ignore", windowsHide: true });
    child.on("error", () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

function isSet(value: string | undefined): boolean {
  const text = value?.trim().toLowerCase();
  return text !== undefined && text !== "" && text !== "0" && text !== "false";
}
