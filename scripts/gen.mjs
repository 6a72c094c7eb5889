// Generates TypeScript for proto/*.proto into src/gen (gitignored) with buf
// driving protoc-gen-ts. Nothing is downloaded: both tools come from npm.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'src', 'gen'), { recursive: true, force: true });
execFileSync(join(root, 'node_modules', '.bin', 'buf'), ['generate'], {
  cwd: join(root, 'proto'),
  stdio: 'inherit',
});
