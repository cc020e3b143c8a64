// Build .cache/runtime/pyodide-<version>/python_stdlib.zip: Pyodide's standard library with
// bytecode for the card's start-up modules (why and how: tools/stdlib_bytecode.py).
//
// The bytecode is made by the pinned Pyodide itself, booted in Node from node_modules, so it
// matches the interpreter the browser runs byte for byte. `make dist` publishes the result in
// place of the package's own zip (cardserver/dist.py); without it, the package's zip.
//
// Usage: node tools/compile-stdlib.mjs   (from anywhere; paths are relative to the project)

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pyodideDir = join(root, "node_modules", "pyodide");
const { version } = JSON.parse(readFileSync(join(pyodideDir, "package.json"), "utf8"));
const target = join(root, ".cache", "runtime", `pyodide-${version}`, "python_stdlib.zip");

const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const started = Date.now();
const pyodide = await loadPyodide({ indexURL: pyodideDir + "/" });

pyodide.FS.writeFile("/tmp/stdlib_bytecode.py", readFileSync(join(root, "tools", "stdlib_bytecode.py")));
pyodide.globals.set("module_list", readFileSync(join(root, "tools", "stdlib-boot-modules.txt"), "utf8"));
const summary = pyodide.runPython(`
import sys
sys.path.insert(0, "/tmp")
import stdlib_bytecode as sb

# The package's python_stdlib.zip, as Pyodide put it on sys.path while booting.
archive = next(p for p in sys.path if p.endswith(".zip"))
with open(archive, "rb") as f:
    result = sb.with_bytecode(f.read(), sb.read_module_list(module_list), archive)
with open("/tmp/out.zip", "wb") as f:
    f.write(result.data)
f"{len(result.compiled)} modules compiled by Python {sys.version.split()[0]}" + (
    f"; not in the zip (built in or frozen): {', '.join(result.not_found)}" if result.not_found else "")
`);

mkdirSync(dirname(target), { recursive: true });
const temp = `${target}.${process.pid}.tmp`;
writeFileSync(temp, pyodide.FS.readFile("/tmp/out.zip"));
renameSync(temp, target); // never a half-written zip under the served name
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`Standard library with bytecode: ${target} (${summary}; ${seconds} s)`);
