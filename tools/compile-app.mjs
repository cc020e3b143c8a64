// Build .cache/bytecode/: checked bytecode (PEP 552) for the card's own Python packages and for
// PyScript's `pyscript` package, plus manifest.json naming the source each .pyc was made from.
// Why and how: tools/app_bytecode.py. cardserver/bundle.py packs what still matches the sources.
//
// The bytecode is made by the pinned Pyodide itself, booted in Node from node_modules.
// Usage: node tools/compile-app.mjs   (from anywhere; paths are relative to the project)

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, ".cache", "bytecode");
const pyodideDir = join(root, "node_modules", "pyodide");
// Keep in step with cardserver/bundle.py (APP_PACKAGES): tests/unit/test_app_bundle.py checks.
const packages = ["bx24_bridge", "callcard"];
// PyScript writes its package from this artifact (minified Python as JS strings), not from the
// .py files beside it: the bytecode must be made from the very text the browser will hash.
const pyscriptArtifact = join("node_modules", "@pyscript", "core", "src", "stdlib", "pyscript.js");

const sources = {}; // "pkg/mod.py" -> bytes
const madeFrom = {}; // "pkg/mod.py" -> the project file whose sha256 the server checks
for (const name of packages) {
  for (const file of readdirSync(join(root, name)).sort()) {
    if (!file.endsWith(".py")) continue;
    sources[`${name}/${file}`] = readFileSync(join(root, name, file));
    madeFrom[`${name}/${file}`] = `${name}/${file}`;
  }
}
const { default: pyscriptTree } = await import(join(root, pyscriptArtifact));
for (const [file, text] of Object.entries(pyscriptTree.pyscript)) {
  if (typeof text !== "string" || !file.endsWith(".py")) continue; // no subpackages today
  sources[`pyscript/${file}`] = Buffer.from(text, "utf8");
  madeFrom[`pyscript/${file}`] = pyscriptArtifact.split("\\").join("/");
}

const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const started = Date.now();
const pyodide = await loadPyodide({ indexURL: pyodideDir + "/" });
pyodide.FS.mkdirTree("/tmp/tools");
for (const file of ["stdlib_bytecode.py", "app_bytecode.py"]) {
  pyodide.FS.writeFile(`/tmp/tools/${file}`, readFileSync(join(root, "tools", file)));
}
pyodide.FS.mkdirTree("/tmp/sources");
const names = Object.keys(sources);
names.forEach((name, index) => pyodide.FS.writeFile(`/tmp/sources/${index}`, sources[name]));
pyodide.globals.set("names", pyodide.toPy(names));
pyodide.globals.set("made_from", pyodide.toPy(madeFrom));
const result = pyodide.runPython(`
import json, sys
sys.path.insert(0, "/tmp/tools")
import app_bytecode as ab

sources = {}
for index, name in enumerate(names):
    with open(f"/tmp/sources/{index}", "rb") as f:
        sources[name] = f.read()
compiled = ab.compile_sources(sources)
for index, item in enumerate(compiled):
    with open(f"/tmp/sources/{index}.pyc", "wb") as f:
        f.write(item.data)
json.dumps({"manifest": ab.manifest(compiled, made_from), "version": sys.version.split()[0]})
`);
const { manifest, version } = JSON.parse(result);
// The manifest's sha256 is of the file each entry was made from (the .py, or PyScript's artifact).
for (const entry of Object.values(manifest)) {
  entry.sha256 = createHash("sha256").update(readFileSync(join(root, entry.from))).digest("hex");
}

// Written to a temporary folder, then swapped in: never half a set under the served name.
const temp = `${target}.${process.pid}.tmp`;
rmSync(temp, { recursive: true, force: true });
Object.values(manifest).forEach((entry, index) => {
  const file = join(temp, entry.pyc);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, pyodide.FS.readFile(`/tmp/sources/${index}.pyc`));
});
writeFileSync(join(temp, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
rmSync(target, { recursive: true, force: true });
renameSync(temp, target);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`App bytecode: ${target} (${names.length} modules, Python ${version}; ${seconds} s)`);
