import * as esbuild from "esbuild";
import { readFileSync, writeFileSync, rmSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
const src = readFileSync("scripts/build.mjs","utf8");
// reuse plugin definitions by eval-ing the relevant part
const DEFERRED_BUILTINS = ["assert","child_process","crypto","dns","fs/promises","http","https","net","os","perf_hooks","readline","readline/promises","stream","stream/promises","string_decoder","tls","tty","v8","vm","worker_threads","zlib"];
const deferredBuiltins = { name:"deferred-builtins", setup(build){ const filter=new RegExp(`^(node:)?(${DEFERRED_BUILTINS.map(n=>n.replace("/","\\/")).join("|")})$`); build.onResolve({filter},a=>({path:a.path.replace(/^node:/,""),namespace:"deferred-builtin"})); build.onLoad({filter:/.*/,namespace:"deferred-builtin"},a=>{const id=`node:${a.path}`;const names=Object.keys(process.getBuiltinModule(id));return{loader:"js",contents:[`let loaded;`,`const load = () => (loaded ??= process.getBuiltinModule(${JSON.stringify(id)}));`,`for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`].join("\n")};});}};
const out="/tmp/splitb"; rmSync(out,{recursive:true,force:true});
const r = await esbuild.build({ bundle:true, platform:"node", format:"esm", splitting:true, target:"node20", external:["@napi-rs/keyring"], entryPoints:{"codex-auth":"src/cli/main.ts"}, outdir:out+"/esm", metafile:true, minifyWhitespace:true, minifySyntax:true, define:{"import.meta.url":"__codex_auth_module_url"}, chunkNames:"lib/[name]-[hash]", plugins:[deferredBuiltins], logLevel:"warning", write:false});
for (const f of r.outputFiles) {
  const rel = path.relative(out+"/esm", f.path).replace(/\.js$/,".cjs");
  const code = f.text.replace(/(from\s*|import\(\s*|import\s*)"(\.\.?\/[^"]+)\.js"/g, (m,a,p)=>`${a}"${p}.cjs"`);
  const t = await esbuild.transform(code, { format:"cjs", target:"node20", supported:{"dynamic-import":false}, minifyWhitespace:true, minifySyntax:true, banner:'"use strict";\nconst __codex_auth_module_url = require("node:url").pathToFileURL(__filename).href;', loader:"js"});
  mkdirSync(path.dirname(path.join(out,rel)),{recursive:true}); writeFileSync(path.join(out,rel), t.code);
}
console.log(readdirSync(out+"/lib").length, "chunks");
