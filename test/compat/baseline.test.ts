import { describe, expect, it } from "vitest";
import { chooseBaseline, type GitQueries } from "../../src/compat/baseline.js";

/** A repository described by facts; anything not given does not exist. */
function fakeGit(facts: {
  commits?: Record<string, string>;
  tags?: Record<string, string>;
  tagsAtHead?: string[];
  branch?: string;
  mergeBases?: Record<string, string>;
  lastSchemaCommit?: string;
  dirty?: boolean;
  shallow?: boolean;
}): GitQueries {
  return {
    lastReleaseTag: (rev) => facts.tags?.[rev],
    releaseTagsAtHead: () => facts.tagsAtHead ?? [],
    commitOf: (rev) => facts.commits?.[rev],
    currentBranch: () => facts.branch,
    mergeBase: (_a, b) => facts.mergeBases?.[b],
    lastCommitTouching: () => facts.lastSchemaCommit,
    hasUncommittedChanges: () => facts.dirty ?? false,
    isShallow: () => facts.shallow ?? false,
  };
}

const options = { protocolPath: "schemas/app-server" };

describe("chooseBaseline", () => {
  it("prefers the last release tag", () => {
    const git = fakeGit({ commits: { HEAD: "c3" }, tags: { HEAD: "v1.2.0" }, branch: "feature", mergeBases: { main: "c1" } });
    expect(chooseBaseline(git, options)).toMatchObject({ kind: "ref", ref: "v1.2.0" });
  });

  it("skips a tag on HEAD itself, so a release commit is checked against the release before it", () => {
    const git = fakeGit({ commits: { HEAD: "c3", "HEAD^": "c2" }, tagsAtHead: ["v1.3.0"], tags: { HEAD: "v1.3.0", "HEAD^": "v1.2.0" }, branch: "main" });
    expect(chooseBaseline(git, options)).toMatchObject({ kind: "ref", ref: "v1.2.0" });
  });

  it("without a release, a branch is compared with its merge base with main, or origin/main", () => {
    expect(chooseBaseline(fakeGit({ commits: { HEAD: "c3", main: "c2" }, branch: "feature", mergeBases: { main: "c1" } }), options)).toMatchObject({ ref: "c1" });
    // Detached HEAD in CI, only origin/main fetched.
    const ci = fakeGit({ commits: { HEAD: "c3", "origin/main": "c2" }, mergeBases: { "origin/main": "c2" } });
    expect(chooseBaseline(ci, options)).toMatchObject({ kind: "ref", ref: "c2", reason: expect.stringContaining("origin/main") });
  });

  it("on main, uncommitted schema changes are checked against HEAD", () => {
    expect(chooseBaseline(fakeGit({ commits: { HEAD: "c3" }, branch: "main", dirty: true, lastSchemaCommit: "c2" }), options)).toMatchObject({ ref: "HEAD" });
  });

  it("on a clean main, the state before the last schema change", () => {
    const git = fakeGit({ commits: { HEAD: "c3", "c2^": "c1" }, branch: "main", lastSchemaCommit: "c2" });
    expect(chooseBaseline(git, options)).toMatchObject({ kind: "ref", ref: "c1" });
  });

  it("a branch at main's tip is treated like main", () => {
    const git = fakeGit({ commits: { HEAD: "c3", main: "c3", "c3^": "c2" }, branch: "feature", mergeBases: { main: "c3" }, lastSchemaCommit: "c3" });
    expect(chooseBaseline(git, options)).toMatchObject({ kind: "ref", ref: "c2" });
  });

  it("no baseline: no commit, no schema history, schemas from the first commit, a shallow clone", () => {
    expect(chooseBaseline(fakeGit({}), options)).toMatchObject({ kind: "none" });
    expect(chooseBaseline(fakeGit({ commits: { HEAD: "c1" }, branch: "main" }), options)).toMatchObject({ kind: "none", reason: expect.stringContaining("no committed history") });
    expect(chooseBaseline(fakeGit({ commits: { HEAD: "c1" }, branch: "main", lastSchemaCommit: "c1" }), options)).toMatchObject({
      kind: "none",
      reason: expect.stringContaining("has not changed since the first commit"),
    });
    expect(chooseBaseline(fakeGit({ commits: { HEAD: "c9" }, branch: "main", lastSchemaCommit: "c9", shallow: true }), options)).toMatchObject({
      kind: "none",
      reason: expect.stringContaining("shallow"),
    });
  });
});
