import { spawn } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "../../../src/auth/errors.js";
import { FileAuthStore } from "../../../src/auth/store/file-store.js";
import { AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE, serializeAuthDotJson } from "../../../src/auth/store/index.js";
import { tempDir, type TempDir } from "../../support/cli-process.js";
import { codexFixture } from "../../support/fixtures.js";

let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-file-store-")));
afterEach(() => home.remove());

const authPath = () => path.join(home.dir, "auth.json");

async function storeError(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error("expected a store error");
}

describe("FileAuthStore", () => {
  it("writes exactly what Codex 0.169.0 writes (bytes, no trailing newline) with mode 0600", async () => {
    const store = new FileAuthStore(home.dir);
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-proj-1234567890ABCDE" });
    expect(readFileSync(authPath())).toEqual(readFileSync(codexFixture("auth-json/api-key.written-by-codex-0.169.0.json")));
    expect(statSync(authPath()).mode & 0o777).toBe(0o600);

    await store.save({ OPENAI_API_KEY: null, personal_access_token: "at-good-1" });
    expect(readFileSync(authPath())).toEqual(readFileSync(codexFixture("auth-json/personal-access-token.written-by-codex-0.169.0.json")));
  });

  it("round-trips what it reads from the Codex fixtures", async () => {
    for (const name of ["api-key", "personal-access-token"]) {
      const bytes = readFileSync(codexFixture(`auth-json/${name}.written-by-codex-0.169.0.json`), "utf8");
      writeFileSync(authPath(), bytes);
      const loaded = await new FileAuthStore(home.dir).load();
      expect(serializeAuthDotJson(loaded!)).toBe(bytes);
    }
  });

  it("replaces a file with looser permissions by a new 0600 file", async () => {
    writeFileSync(authPath(), '{\n  "OPENAI_API_KEY": "sk-old"\n}', { mode: 0o644 });
    chmodSync(authPath(), 0o644);
    await new FileAuthStore(home.dir).save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-new" });
    expect(statSync(authPath()).mode & 0o777).toBe(0o600);
  });

  it("creates a missing CODEX_HOME directory when saving, and leaves no temp file; Codex's two lock files stay, as Codex leaves them", async () => {
    const nested = path.join(home.dir, "a", "b");
    const store = new FileAuthStore(nested);
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-x" });
    expect(readdirSync(nested).sort()).toEqual(["auth.json", AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE].sort());
    expect(statSync(path.join(nested, AUTH_LOCK_FILE)).size).toBe(0);
  });

  it("returns null when there is no file, and delete reports whether it removed one", async () => {
    const store = new FileAuthStore(home.dir);
    expect(await store.load()).toBeNull();
    expect(await store.delete()).toBe(false);
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-x" });
    expect(await store.delete()).toBe(true);
    expect(existsSync(authPath())).toBe(false);
  });

  it("rejects malformed content with an error naming the file, and never overwrites it on save", async () => {
    const store = new FileAuthStore(home.dir);
    for (const content of ["{not json", "", "[]", '{"OPENAI_API_KEY":5}', '{"auth_mode":"bogus"}', '{"tokens":{"id_token":"x"}}']) {
      writeFileSync(authPath(), content);
      const loadError = await storeError(store.load());
      expect(loadError.code).toBe("STORE_MALFORMED");
      expect(loadError.message).toContain(`failed to deserialize CLI auth from file "${authPath()}": `);

      const saveError = await storeError(store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-new" }));
      expect(saveError.code).toBe("STORE_MALFORMED");
      expect(saveError.message).toContain(authPath());
      expect(readFileSync(authPath(), "utf8")).toBe(content);
    }
    // An explicit delete (logout) is the way out.
    expect(await store.delete()).toBe(true);
  });

  it("names the unknown auth_mode", async () => {
    writeFileSync(authPath(), '{"auth_mode":"bedrockApiKey","OPENAI_API_KEY":null}');
    expect((await storeError(new FileAuthStore(home.dir).load())).message).toMatch(/unknown variant .*bedrockApiKey.* at \/auth_mode/);
  });

  it("reports an unreadable file (here: a directory in its place) with its path", async () => {
    mkdirSync(authPath());
    const store = new FileAuthStore(home.dir);
    const error = await storeError(store.load());
    expect(error.code).toBe("STORE_UNREADABLE");
    expect(error.message).toBe(`failed to read CLI auth from file "${authPath()}": Is a directory (EISDIR)`);
    expect((await storeError(store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-x" }))).code).toBe("STORE_UNREADABLE");
    expect((await storeError(store.delete())).message).toContain(authPath());
  });

  it("serializes concurrent saves in one process without losing the file", async () => {
    const store = new FileAuthStore(home.dir);
    const keys = Array.from({ length: 25 }, (_, i) => `sk-concurrent-${i}`);
    await Promise.all(keys.map((key) => store.save({ auth_mode: "apikey", OPENAI_API_KEY: key })));
    const loaded = await store.load();
    expect(keys).toContain(loaded?.OPENAI_API_KEY);
    expect(readdirSync(home.dir).sort()).toEqual(["auth.json", AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE].sort());
  });

  it("removes temp files a killed save left behind (dead pid, or too old to be in progress) on the next save and delete, and keeps a live one's", async () => {
    const dead = await deadPid();
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"]);
    try {
      const deadTemp = `.auth.json.${dead}.1.1.tmp`;
      const liveTemp = `.auth.json.${sleeper.pid}.2.2.tmp`;
      const staleLiveTemp = `.auth.json.${sleeper.pid}.3.3.tmp`;
      for (const name of [deadTemp, liveTemp, staleLiveTemp]) writeFileSync(path.join(home.dir, name), '{"auth_mode":');
      const hourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(path.join(home.dir, staleLiveTemp), hourAgo, hourAgo);
      writeFileSync(path.join(home.dir, "unrelated.tmp"), "x");
      // What a writer (Codex or codex-auth) killed between its write and its rename leaves.
      writeFileSync(path.join(home.dir, ".auth-Ab3dE9"), '{"auth_mode":');
      const store = new FileAuthStore(home.dir);
      await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-after-crash" });
      const locks = [AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE];
      expect(readdirSync(home.dir).sort()).toEqual([liveTemp, "auth.json", "unrelated.tmp", ...locks].sort());

      writeFileSync(path.join(home.dir, deadTemp), "{");
      writeFileSync(path.join(home.dir, ".auth-Zz9yX8"), "{");
      expect(await store.delete()).toBe(true);
      expect(readdirSync(home.dir).sort()).toEqual([liveTemp, "unrelated.tmp", ...locks].sort());
    } finally {
      sleeper.kill();
    }
  });
});

describe("FileAuthStore with a symlinked auth.json (Codex 0.171.0 writes through the link, and its logout unlinks only the link, leaving the secret in the target)", () => {
  const target = () => path.join(home.dir, "elsewhere", "real-auth.json");
  const plant = (content: string) => {
    mkdirSync(path.dirname(target()));
    writeFileSync(target(), content, { mode: 0o600 });
    symlinkSync(target(), authPath());
  };

  it("reads through the link, as Codex does", async () => {
    plant('{\n  "OPENAI_API_KEY": "sk-in-target"\n}');
    expect((await new FileAuthStore(home.dir).load())?.OPENAI_API_KEY).toBe("sk-in-target");
  });

  it("a save is refused with a message naming the link; the link and its target are untouched", async () => {
    const before = '{\n  "OPENAI_API_KEY": "sk-old-in-target"\n}';
    plant(before);
    const error = await storeError(new FileAuthStore(home.dir).save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-new" }));
    expect(error.code).toBe("STORE_WRITE_FAILED");
    expect(error.message).toBe(
      `refusing to write CLI auth to file "${authPath()}": it is a symbolic link (to "${target()}"); remove the link and the file it points to, then sign in again`,
    );
    expect(lstatSync(authPath()).isSymbolicLink()).toBe(true);
    expect(readFileSync(target(), "utf8")).toBe(before);
    expect(readdirSync(path.dirname(target()))).toEqual(["real-auth.json"]);
  });

  it("delete (logout) is refused rather than removing the link alone and calling the credential removed", async () => {
    plant('{\n  "OPENAI_API_KEY": "sk-old-in-target"\n}');
    const error = await storeError(new FileAuthStore(home.dir).delete());
    expect(error.message).toMatch(/^refusing to remove CLI auth file ".*": it is a symbolic link/);
    expect(lstatSync(authPath()).isSymbolicLink()).toBe(true);
    expect(existsSync(target())).toBe(true);
  });
});

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"]);
  const pid = child.pid!;
  await new Promise((resolve) => child.on("close", resolve));
  return pid;
}

describe("FileAuthStore read cache (the app-server loads auth on every request)", () => {
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const otherProcessWrites = (content: object) => {
    // As another process would: a temp file renamed over auth.json (a new inode).
    const temp = path.join(home.dir, "other.tmp");
    writeFileSync(temp, JSON.stringify(content, null, 2), { mode: 0o600 });
    return new Promise<void>((resolve, reject) => spawn("mv", [temp, authPath()]).on("close", (code) => (code === 0 ? resolve() : reject(new Error(`mv ${code}`)))));
  };

  it("hands out one frozen object while the file is unchanged, and sees another process's write on the next turn", async () => {
    const store = new FileAuthStore(home.dir);
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-first-000000000000" });
    const first = await store.load();
    await nextTurn();
    const again = await store.load();
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);

    await otherProcessWrites({ auth_mode: "apikey", OPENAI_API_KEY: "sk-second-00000000000" });
    await nextTurn();
    expect((await store.load())?.OPENAI_API_KEY).toBe("sk-second-00000000000");

    // An in-place rewrite of the same size (Codex truncates and writes) is seen too.
    writeFileSync(authPath(), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-third-000000000000" }, null, 2));
    await nextTurn();
    expect((await store.load())?.OPENAI_API_KEY).toBe("sk-third-000000000000");
  });

  it("`fresh` reads what is on disk now, even within the same turn; its own saves and deletes are seen at once", async () => {
    const store = new FileAuthStore(home.dir);
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-first-000000000000" });
    await store.load();
    writeFileSync(authPath(), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-other-000000000000" }, null, 2));
    expect((await store.load({ fresh: true }))?.OPENAI_API_KEY).toBe("sk-other-000000000000");

    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-saved-000000000000" });
    expect((await store.load())?.OPENAI_API_KEY).toBe("sk-saved-000000000000");
    await store.delete();
    expect(await store.load()).toBeNull();
  });
});
