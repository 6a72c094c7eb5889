// Prints the SHA256 of the built plugin and the exact commands that register
// and enable it in a real Vault whose plugin_directory holds the binary.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'vault-plugin-secrets-postgres';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binary = join(root, 'dist', NAME);
if (!existsSync(binary)) {
  console.error(`${binary} does not exist; run "npm run build" first.`);
  process.exit(1);
}
const sha256 = createHash('sha256').update(readFileSync(binary)).digest('hex');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
console.log(`sha256: ${sha256}`);
console.log('');
console.log('# copy the binary into Vault\'s plugin_directory, then:');
console.log(`vault plugin register -sha256=${sha256} -command=${NAME} -version=v${version} secret ${NAME}`);
console.log(`vault secrets enable -path=pg -plugin-version=v${version} ${NAME}`);
