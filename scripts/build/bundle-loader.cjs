"use strict";
// How the shipped bin (dist/bin/codex-auth.cjs) loads a command's bundle, dist/bin/commands/<name>.cjs:
// as `require` would, but compiled from the V8 code cache that scripts/build/code-cache.mjs writes
// beside it. Compiling a 200 KB bundle is most of what `login status` costs beyond Node's own start;
// from the cache V8 deserializes the functions a real run used instead of parsing the source.
//
// The cache is an optimisation only: a missing, unreadable or rejected cache (another Node or V8
// version, other V8 flags, a source of another length) compiles the source as `require` does. Every
// build rewrites a bundle and its cache together.
//
// CommonJS on purpose: it is bundled into the CommonJS dispatcher, and it reaches Node's Module
// class through `require.main` instead of importing `node:module`, whose public module loads Node's
// ES-module loader on the way (a millisecond `login status` does not need).
const { readFileSync } = require("node:fs");
const path = require("node:path");
const { Script } = require("node:vm");

const CODE_CACHE_SUFFIX = ".v8cache";

// What Node's CommonJS loader wraps a file in: the same text when the cache is made and used.
function wrap(source) {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
}

function requireBundle(file) {
  const loaded = moduleClass()._cache[file];
  return loaded ? loaded.exports : loadBundle(file, readCodeCache(file)).exports;
}

/**
 * Compiles and runs a bundle as a registered CommonJS module; the Script is returned so that the
 * build (scripts/build/code-cache.mjs) can write its cache after a training run.
 */
function loadBundle(file, cachedData) {
  const Module = moduleClass();
  const script = new Script(wrap(readFileSync(file, "utf8")), { filename: file, cachedData });
  const bundle = new Module(file, require.main);
  bundle.filename = file;
  bundle.paths = Module._nodeModulePaths(path.dirname(file));
  // Registered before it runs, as require does, so a cycle back into the bundle sees its exports.
  Module._cache[file] = bundle;
  try {
    script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, path.dirname(file));
  } catch (error) {
    delete Module._cache[file];
    throw error;
  }
  bundle.loaded = true;
  return { exports: bundle.exports, script };
}

function moduleClass() {
  return require.main ? require.main.constructor : require("node:module");
}

function readCodeCache(file) {
  try {
    return readFileSync(file + CODE_CACHE_SUFFIX);
  } catch {
    return undefined;
  }
}

module.exports = { requireBundle, loadBundle, wrap, CODE_CACHE_SUFFIX };
