import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AutoAuthStore } from "../../../src/auth/store/auto-store.js";
import { createAuthStore, EphemeralAuthStore, FileAuthStore } from "../../../src/auth/store/index.js";
import { KEYRING_SERVICE, KeyringAuthStore, keyringAccount, type KeyringEntry, type KeyringEntryFactory } from "../../../src/auth/store/keyring-store.js";
import { tempDir, type TempDir } from "../../support/cli-process.js";

let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-stores-")));
afterEach(() => home.remove());

/**
 * An in-memory stand-in for the OS keyring entry (the real binding is exercised end to end in
 * test/e2e/cli-keyring.test.ts on a real Secret Service). `broken` makes every call fail like a
 * machine without a keyring.
 */
function memoryKeyring(options: { broken?: boolean } = {}) {
  const entries = new Map<string, string>();
  const calls: string[] = [];
  const factory: KeyringEntryFactory = async (service, account) => {
    const key = `${service}/${account}`;
    const fail = (op: string) => {
      calls.push(`${op} ${key}`);
      if (options.broken) throw new Error("Platform secure storage failure: no secret service provider or dbus session found");
    };
    const entry: KeyringEntry = {
      async getPassword() {
        fail("get");
        return entries.get(key) ?? null;
      },
      async setPassword(password) {
        fail("set");
        entries.set(key, password);
      },
      async deletePassword() {
        fail("delete");
        return entries.delete(key);
      },
    };
    return entry;
  };
  return { entries, calls, factory };
}

describe("keyringAccount", () => {
  it("matches Codex's key for a path that cannot be canonicalized (upstream test value)", () => {
    expect(keyringAccount("~/.codex")).toBe("cli|940db7b1d0e4eb40");
  });
});

describe("KeyringAuthStore", () => {
  it("stores compact JSON under service 'Codex Auth', removes the file fallback, and deletes both", async () => {
    const keyring = memoryKeyring();
    writeFileSync(path.join(home.dir, "auth.json"), '{"OPENAI_API_KEY":"sk-stale"}');
    const store = new KeyringAuthStore(home.dir, keyring.factory);
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-keyring" });
    expect([...keyring.entries]).toEqual([[`${KEYRING_SERVICE}/${keyringAccount(home.dir)}`, '{"auth_mode":"apikey","OPENAI_API_KEY":"sk-keyring"}']]);
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
    expect(await store.load()).toEqual({ auth_mode: "apikey", OPENAI_API_KEY: "sk-keyring" });
    expect(await store.delete()).toBe(true);
    expect(await store.load()).toBeNull();
  });

  it("reports keyring failures with Codex's prefixes", async () => {
    const store = new KeyringAuthStore(home.dir, memoryKeyring({ broken: true }).factory);
    await expect(store.load()).rejects.toThrow(/^failed to load CLI auth from keyring: Platform secure storage failure/);
    await expect(store.save({ OPENAI_API_KEY: "sk-x" })).rejects.toThrow(/^failed to write OAuth tokens to keyring: /);
    await expect(store.delete()).rejects.toThrow(/^failed to delete auth from keyring: /);
  });

  it("rejects malformed keyring content", async () => {
    const keyring = memoryKeyring();
    keyring.entries.set(`${KEYRING_SERVICE}/${keyringAccount(home.dir)}`, "{nope");
    await expect(new KeyringAuthStore(home.dir, keyring.factory).load()).rejects.toThrow(/^failed to deserialize CLI auth from keyring: /);
  });
});

describe("AutoAuthStore", () => {
  it("prefers the keyring when it works", async () => {
    const keyring = memoryKeyring();
    const store = new AutoAuthStore(new KeyringAuthStore(home.dir, keyring.factory), new FileAuthStore(home.dir));
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-auto" });
    expect(keyring.entries.size).toBe(1);
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
    expect((await store.load())?.OPENAI_API_KEY).toBe("sk-auto");
  });

  it("falls back to auth.json when the keyring is unavailable, for save, load and delete", async () => {
    const store = new AutoAuthStore(new KeyringAuthStore(home.dir, memoryKeyring({ broken: true }).factory), new FileAuthStore(home.dir));
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-fallback" });
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(true);
    expect((await store.load())?.OPENAI_API_KEY).toBe("sk-fallback");
    expect(await store.delete()).toBe(true);
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
  });

  it("reads the file when the keyring is empty", async () => {
    writeFileSync(path.join(home.dir, "auth.json"), '{\n  "OPENAI_API_KEY": "sk-file"\n}');
    const store = new AutoAuthStore(new KeyringAuthStore(home.dir, memoryKeyring().factory), new FileAuthStore(home.dir));
    expect((await store.load())?.OPENAI_API_KEY).toBe("sk-file");
  });
});

describe("ephemeral store", () => {
  it("keeps auth in process memory only", async () => {
    const store = createAuthStore("ephemeral", home.dir);
    expect(store).toBeInstanceOf(EphemeralAuthStore);
    await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-memory" });
    expect(readdirSync(home.dir)).toEqual([]);
    // Process-global: another store for the same home sees it.
    expect((await createAuthStore("ephemeral", home.dir).load())?.OPENAI_API_KEY).toBe("sk-memory");
    expect(await store.delete()).toBe(true);
    expect(await store.load()).toBeNull();
  });
});

describe("createAuthStore", () => {
  it("builds the store for each mode; keyring stores load their module lazily", async () => {
    expect(createAuthStore("file", home.dir)).toBeInstanceOf(FileAuthStore);
    const keyring = memoryKeyring();
    const lazy = createAuthStore("keyring", home.dir, keyring.factory);
    expect(lazy.description).toBe("keyring");
    await lazy.save({ OPENAI_API_KEY: "sk-lazy" });
    expect(keyring.calls).toEqual([`set ${KEYRING_SERVICE}/${keyringAccount(home.dir)}`]);
    const auto = createAuthStore("auto", home.dir, memoryKeyring({ broken: true }).factory);
    await auto.save({ OPENAI_API_KEY: "sk-auto-file" });
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(true);
  });
});
