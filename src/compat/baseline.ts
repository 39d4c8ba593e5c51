/**
 * Which version of `schemas/` the working tree is checked against. The promise to clients is
 * about what they could have built against, so, in order:
 *
 * 1. The last release: the newest `v*` tag reachable from HEAD. A tag on HEAD itself is skipped
 *    (the previous release is used), so the release commit is still checked against the release
 *    before it and its allowlist entries stay valid until the next commit.
 * 2. On another branch than `main` (a pull request), with no release yet: the merge base with
 *    `main` (or `origin/main`), i.e. what this branch changes.
 * 3. On `main` with no release yet: uncommitted schema changes are checked against HEAD;
 *    otherwise the state just before the last commit that changed the protocol schemas
 *    (`schemas/app-server/`) is the baseline. This still catches a committed-but-unreleased change on a clean clone
 *    (CI), and an allowlist entry lives until the next schema change rather than one commit.
 *    When that commit has no parent (schemas/ came with the first commit, or the clone is
 *    shallow) there is no baseline: the check passes with a note.
 */

/** The git questions the choice needs; answered by real `git` in the CLI, by a fake in tests. */
export interface GitQueries {
  /** `git describe --tags --abbrev=0 --match 'v*' <rev>`; undefined when none. */
  lastReleaseTag(rev: string): string | undefined;
  /** Release tags (`v*`) pointing at HEAD. */
  releaseTagsAtHead(): string[];
  /** Full commit id of a revision, or undefined when it does not exist. */
  commitOf(rev: string): string | undefined;
  /** Current branch name; undefined on a detached HEAD. */
  currentBranch(): string | undefined;
  mergeBase(a: string, b: string): string | undefined;
  /** Newest commit that changed something under `path`, or undefined. */
  lastCommitTouching(path: string): string | undefined;
  /** True when the working tree or index differs from HEAD under `path`, untracked files included. */
  hasUncommittedChanges(path: string): boolean;
  isShallow(): boolean;
}

export type Baseline = { kind: "ref"; ref: string; reason: string } | { kind: "none"; reason: string };

export interface BaselineOptions {
  /** Folder of the protocol schemas relative to the repository root, e.g. "schemas/app-server". */
  protocolPath: string;
  mainBranch?: string;
}

export function chooseBaseline(git: GitQueries, options: BaselineOptions): Baseline {
  const main = options.mainBranch ?? "main";
  const head = git.commitOf("HEAD");
  if (head === undefined) return { kind: "none", reason: "the repository has no commit yet" };

  const taggedHead = git.releaseTagsAtHead().length > 0;
  const tag = taggedHead ? (git.commitOf("HEAD^") === undefined ? undefined : git.lastReleaseTag("HEAD^")) : git.lastReleaseTag("HEAD");
  if (tag !== undefined) {
    return { kind: "ref", ref: tag, reason: `last release tag ${tag}${taggedHead ? " before the one on HEAD" : ""}` };
  }

  const branch = git.currentBranch();
  if (branch !== main) {
    for (const candidate of [main, `origin/${main}`]) {
      if (git.commitOf(candidate) === undefined) continue;
      const base = git.mergeBase("HEAD", candidate);
      if (base !== undefined && base !== head) {
        return { kind: "ref", ref: base, reason: `no release tag yet; merge base of HEAD with ${candidate}` };
      }
      break;
    }
  }

  const path = options.protocolPath;
  if (git.hasUncommittedChanges(path)) {
    return { kind: "ref", ref: "HEAD", reason: `no release tag yet; uncommitted changes under ${path}/ are checked against HEAD` };
  }
  const last = git.lastCommitTouching(path);
  if (last === undefined) return { kind: "none", reason: `no release tag yet and ${path}/ has no committed history` };
  const parent = git.commitOf(`${last}^`);
  if (parent === undefined) {
    const why = git.isShallow()
      ? "the clone is shallow (fetch the full history, e.g. fetch-depth: 0, for the check to mean something)"
      : `${path}/ has not changed since the first commit`;
    return { kind: "none", reason: `no release tag yet and no earlier version to compare with: ${why}` };
  }
  return {
    kind: "ref",
    ref: parent,
    reason: `no release tag yet; the state before the last commit that changed ${path}/ (${last.slice(0, 12)})`,
  };
}
