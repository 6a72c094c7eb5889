// Makes the Node single-executable application from the bundle with pkg's
// SEA builder (simple mode: one bundled .js file), with settings its command
// line does not expose:
//   - nodePath: the Node binary to embed, so nothing is downloaded;
//   - a fixed main path: Node stores the main script's path in the blob and
//     pkg passes it absolute, so the bundle is staged at a path that depends
//     only on its content (under /tmp); any checkout then gives the same
//     executable;
//   - useCodeCache: V8 bytecode for the bundle is stored in the executable,
//     which saves compiling it at every plugin start (≈20 ms and ≈4 MB of
//     RSS). V8 makes the cache with a per-process random hash seed, so the
//     blob generator runs with a fixed --random-seed (V8 leaves that flag
//     out of the flag hash a cache is checked against, so the plugin, which
//     runs with random seeds as usual, still accepts it) and with the
//     runtime's heap flags (which are in that hash). pkg has no option for
//     the generator's flags: its child_process.execFile is wrapped while it
//     runs (loadSeaWithGeneratorFlags);
//   - execArgv: the V8 heap setting the plugin always runs with (V8_FLAGS).
// The same commit therefore always gives a byte-identical executable.
// Must run on the Node version it packages (pkg's SEA requirement).
//
//   node package-sea.cjs <bundle.js> <node binary> <node version> <output>

const childProcess = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

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
/** Any fixed value; only that it is the same at every build matters. */
const RANDOM_SEED = 1;
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

/**
 * Loads pkg's SEA builder with child_process.execFile wrapped so that the
 * blob generator (`node --experimental-sea-config <file>`, the only Node
 * pkg starts in simple SEA mode) runs with --random-seed and V8_FLAGS.
 * pkg takes execFile when its module loads, so the wrapper is in place
 * before that; every other call passes through unchanged.
 */
function loadSeaWithGeneratorFlags() {
  const execFile = childProcess.execFile;
  childProcess.execFile = function execFileWithGeneratorFlags(file, args, ...rest) {
    const generator = Array.isArray(args) && args[0] === '--experimental-sea-config';
    return execFile.call(this, file, generator ? [`--random-seed=${RANDOM_SEED}`, ...V8_FLAGS, ...args] : args, ...rest);
  };
  try {
    return require('@yao-pkg/pkg/lib-es5/sea').default;
  } finally {
    childProcess.execFile = execFile;
  }
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
  const sea = loadSeaWithGeneratorFlags();
  const staged = stageBundle(bundle);
  try {
    await sea(staged, {
      targets: [{ nodeRange: `node${nodeVersion}`, platform: 'linux', arch: 'x64', output: path.resolve(output) }],
      nodePath,
      seaConfig: { useCodeCache: true, execArgv: V8_FLAGS },
    });
  } finally {
    fs.rmSync(path.dirname(staged), { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
