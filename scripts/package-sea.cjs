// Makes the Node single-executable application from the bundle, with Node's
// own SEA support (--experimental-sea-config) and postject, the injector
// Node's documentation names:
//   - the blob is generated in the bundle's directory with `main` given as a
//     bare file name: Node stores that path in the blob, and an absolute one
//     would make every build directory give a different binary;
//   - useCodeCache: V8 bytecode for the bundle is stored in the executable,
//     which saves compiling 1.5 MB of JavaScript at every plugin start;
//   - --random-seed fixes V8's random numbers, among them the string hash
//     seed, while the code cache is made: otherwise the seed is random per
//     process and the cache (so the binary) differs at every build. V8
//     leaves this flag out of the flag hash it checks a cache against, so
//     the plugin, which runs with random seeds as usual, still accepts it.
//   - execArgv: the V8 heap setting the plugin always runs with (V8_FLAGS).
//     The blob is made under the same flags: V8 accepts a code cache only
//     from a process whose flags hash the same.
// The same commit therefore always gives a byte-identical executable.
// Must run on the Node version it packages: the blob's layout is specific
// to it.
//
//   node package-sea.cjs <bundle.js> <node binary> <node version> <output>

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { inject } = require('postject');

/** Any fixed non-zero value; only that it is the same at every build matters. */
const RANDOM_SEED = 1;
/**
 * The plugin's heap: an old generation that V8 sizes and grows for a 512 MB
 * limit instead of one derived from the machine's memory. It grows in
 * smaller steps, so RSS under load stays nearer what is live (npm run bench:
 * peak ≈111 MB instead of ≈145 MB), for about the same GC time; 512 MB is
 * far above what the plugin holds. The price: Node starts ≈15 ms slower
 * with any V8 flag in execArgv, and idle RSS is ≈0.6 MB higher. A smaller young generation would save more RSS but costs CPU:
 * with 1 MB semi-spaces scavenging took ≈0.4 ms more per credential at
 * concurrency 32, with 4 MB ≈0.1 ms.
 */
const V8_FLAGS = ['--max-old-space-size=512'];
/** postject's activation marker for Node SEA; split so that this file never holds it verbatim. */
const SEA_SENTINEL_FUSE = 'NODE_SEA' + '_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

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
  const dir = path.dirname(path.resolve(bundle));
  const blob = path.join(dir, 'sea-prep.blob');
  const config = {
    main: path.basename(bundle),
    output: path.basename(blob),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: true,
    execArgv: V8_FLAGS,
  };
  fs.writeFileSync(path.join(dir, 'sea-config.json'), `${JSON.stringify(config, null, 2)}\n`);
  execFileSync(process.execPath, [`--random-seed=${RANDOM_SEED}`, ...V8_FLAGS, '--experimental-sea-config', 'sea-config.json'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });

  const tmp = `${output}.tmp`;
  fs.copyFileSync(nodePath, tmp);
  fs.chmodSync(tmp, 0o755);
  await inject(tmp, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: SEA_SENTINEL_FUSE, overwrite: true });
  fs.renameSync(tmp, output);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
