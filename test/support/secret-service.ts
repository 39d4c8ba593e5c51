import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { tempDir, type TempDir } from "./cli-process.js";
import { secretService } from "./requirements.js";

/**
 * A real Secret Service for tests: a private D-Bus session (`dbus-run-session`, Debian `dbus`)
 * with Debian's `gnome-keyring` daemon owning `org.freedesktop.secrets`, its login keyring created
 * and unlocked in a temporary HOME. Nothing global is needed or touched; `close()` ends the
 * session, and the keyring daemon leaves with its bus.
 *
 * `env` is what a child process needs to reach it (`DBUS_SESSION_BUS_ADDRESS`, plus the HOME and
 * XDG folders the daemon uses). `withoutSecretService(env)` is the other case Codex knows: no
 * D-Bus session at all, as on a headless Linux server.
 *
 * It needs Debian's dbus-daemon, dbus-bin and gnome-keyring: suites that start one go under
 * `describeIf(secretService(), ...)` (test/support/requirements.ts), so a machine without them
 * skips those suites with a record (and CI, which installs them, fails).
 */
export interface SecretService {
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** How long the session may take to come up (`CODEX_AUTH_TEST_SECRET_SERVICE_MS`, default 20 s). */
const STARTUP_MS = Number(process.env.CODEX_AUTH_TEST_SECRET_SERVICE_MS ?? 20_000);

// Inside the session: start and unlock the keyring (the password is not a secret: a throwaway
// keyring in a temporary HOME), wait until it owns the Secret Service name, print the bus
// address, then hold the session open until our stdin closes.
const SESSION_SCRIPT = `
printf %s throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || { echo "FAILED gnome-keyring-daemon"; exit 3; }
tries=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do
  tries=$((tries + 1)); [ "$tries" -gt 200 ] && { echo "FAILED org.freedesktop.secrets has no owner"; exit 4; }
  sleep 0.05
done
echo "ADDRESS $DBUS_SESSION_BUS_ADDRESS"
exec cat >/dev/null
`;

export async function startSecretService(): Promise<SecretService> {
  const requirement = secretService();
  if (!requirement.available) throw new Error(`cannot start a Secret Service: missing ${requirement.what}; enable with: ${requirement.enable}`);
  const home: TempDir = tempDir("codex-auth-secret-service-");
  const runtime = path.join(home.dir, "run");
  mkdirSync(runtime, { mode: 0o700 });
  const baseEnv: Record<string, string> = {
    HOME: home.dir,
    XDG_DATA_HOME: path.join(home.dir, ".local/share"),
    XDG_CONFIG_HOME: path.join(home.dir, ".config"),
    XDG_CACHE_HOME: path.join(home.dir, ".cache"),
    XDG_RUNTIME_DIR: runtime,
  };
  const env = { ...process.env, ...baseEnv };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const child = spawn("dbus-run-session", ["--", "sh", "-c", SESSION_SCRIPT], { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
  let address: string;
  try {
    address = await readAddress(child);
  } catch (error) {
    killGroup(child);
    home.remove();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    env: { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: address },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => killGroup(child), 5_000);
        child.once("close", () => {
          clearTimeout(timer);
          home.remove();
          resolve();
        });
        child.stdin?.end();
      })),
  };
}

/** The environment of a machine with no D-Bus session, hence no Secret Service (headless Linux). */
export function withoutSecretService(env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { ...env, DBUS_SESSION_BUS_ADDRESS: undefined };
}

function readAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`the Secret Service did not start within ${STARTUP_MS} ms: ${out}${err}`)), STARTUP_MS);
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /^ADDRESS (.+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.trim());
      }
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`dbus-run-session could not start (Debian packages dbus-daemon, gnome-keyring): ${error.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-run-session exited ${code} before the Secret Service was ready: ${out}${err}`));
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}
