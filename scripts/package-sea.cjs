// Makes the Node single-executable application from the bundle with pkg's
// SEA builder (simple mode: one bundled .js file), with settings its command
// line does not expose:
//   - nodePath: the Node binary to embed, so nothing is downloaded;
//   - a fixed main path: Node stores the main script's path in the blob and
//     pkg passes it absolute, so the bundle is staged at a path that depends
//     only on its content (under /tmp); any checkout then gives the same
//     executable;
//   - no V8 code cache: V8 makes it with a per-process random hash seed, so
//     a cache differs at every build (and Node cannot be given a fixed seed
//     through pkg). Without it the plugin compiles its bundle lazily at
//     start, which costs a few milliseconds;
//   - execArgv: the V8 heap setting the plugin always runs with (V8_FLAGS).
// The same commit therefore always gives a byte-identical executable.
// Must run on the Node version it packages (pkg's SEA requirement).
//
//   node package-sea.cjs <bundle.js> <node binary> <node version> <output>

const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { default: sea } = require('@yao-pkg/pkg/lib-es5/sea');

/**
 * The plugin's heap: an old generation that V8 sizes and grows for a 512 MB
 * limit instead of one derived from the machine's memory. It grows in
 * smaller steps, so RSS under load stays nearer what is live (npm run bench:
 * peak ≈111 MB instead of ≈145 MB), for about the same GC time; 512 MB is
 * far above what the plugin holds. The price: Node starts ≈15 ms slower
 * with any V8 flag in execArgv. A smaller young generation would save more
 * RSS but costs CPU: with 1 MB semi-spaces scavenging took ≈0.4 ms more per
 * credential at concurrency 32, with 4 MB ≈0.1 ms.
 */
const V8_FLAGS = ['--max-old-space-size=512'];
/** The main script's name inside the executable (stack traces show it). */
const MAIN_NAME = 'vault-plugin-secrets-postgres.js';

/**
 * Copies the bundle to /tmp/vault-plugin-secrets-postgres-sea/<sha256>/, a
 * path that depends only on the bundle's bytes. The copy is renamed into
 * place, so concurrent builds of the same bundle never see half a file.
 * Returns the staged path.
 */
function stageBundle(bundle) {
  const code = fs.readFileSync(bundle);
  const dir = path.join('/tmp', 'vault-plugin-secrets-postgres-sea', createHash('sha256').update(code).digest('hex'));
  const staged = path.join(dir, MAIN_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${staged}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, staged);
  return staged;
}

async function main() {
  const [bundle, nodePath, nodeVersion, output] = process.argv.slice(2);
  if (!bundle || !nodePath || !nodeVersion || !output) {
    console.error('usage: package-sea.cjs <bundle.js> <node binary> <node version> <output>');
    process.exit(2);
  }
  if (process.version !== `v${nodeVersion}`) {
    console.error(`package-sea.cjs runs on Node ${process.version} but packages ${nodeVersion}; run it with the packaged Node`);
    process.exit(2);
  }
  const staged = stageBundle(bundle);
  try {
    await sea(staged, {
      targets: [{ nodeRange: `node${nodeVersion}`, platform: 'linux', arch: 'x64', output: path.resolve(output) }],
      nodePath,
      seaConfig: { useCodeCache: false, execArgv: V8_FLAGS },
    });
  } finally {
    fs.rmSync(path.dirname(staged), { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
