/**
 * proto/ against the protobuf definitions the Go host links (OpenBao's SDK,
 * go-plugin, gRPC health): test/vault-host/protocheck compares them element
 * by element and exits 1 on any difference.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runBashScript } from '../helpers/run-script';

const ROOT = path.join(__dirname, '..', '..');
const RUN = path.join(ROOT, 'test', 'vault-host', 'protocheck', 'run.sh');
/** The first run compiles the SDK; later runs reuse Go's build cache. */
const TIMEOUT_MS = 10 * 60 * 1000;

/** Runs the checker on a proto directory; stdout and stderr in one report. */
async function protocheck(protoDir: string): Promise<{ code: number | null; report: string }> {
  const { code, output } = await runBashScript(RUN, [protoDir]);
  return { code, report: output };
}

describe('proto/ is wire-compatible with the SDK the host links', { timeout: TIMEOUT_MS }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protocheck-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('finds no difference', async () => {
    const { code, report } = await protocheck(path.join(ROOT, 'proto'));
    assert.equal(code, 0, `protocheck failed:\n${report}`);
    assert.match(report, /^OK: our protos match the SDK$/m);
  });

  it('fails, naming the field, when a field number is changed', async () => {
    const altered = path.join(tmp, 'proto');
    fs.cpSync(path.join(ROOT, 'proto'), altered, { recursive: true });
    const file = path.join(altered, 'backend.proto');
    const original = fs.readFileSync(file, 'utf8');
    const changed = original.replace(/^(\s*string mount_accessor = )14;/m, '$123;');
    assert.notEqual(changed, original, 'Request.mount_accessor = 14 no longer in proto/backend.proto; pick another field');
    fs.writeFileSync(file, changed);

    const { code, report } = await protocheck(altered);
    assert.equal(code, 1, `expected a mismatch (exit 1):\n${report}`);
    assert.match(report, /^MISMATCH pb\.Request\.mount_accessor: ours is field 23 string, SDK is field 14 string /m, report);
  });
});
