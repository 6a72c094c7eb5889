/**
 * The conformance host's own self-tests (test/vault-host/test.sh): its Go
 * unit tests, then the host driven over its HTTP API with its Go test plugin,
 * one section per way the old host differed from real Vault and OpenBao
 * (registration probes, stdio, ALPN, reload, multiplexing, request fields,
 * command rules, environment layering, lease errors and deadlines).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runBashScript } from '../helpers/run-script';

const TEST_SH = path.join(__dirname, '..', 'vault-host', 'test.sh');
/** A cold run builds the host and its test plugin from the Go module cache first. */
const TIMEOUT_MS = 15 * 60 * 1000;

describe('conformance host self-tests', { timeout: TIMEOUT_MS }, () => {
  it('every check of test/vault-host/test.sh passes', async () => {
    const { code, output } = await runBashScript(TEST_SH);
    const summary = /^(\d+) passed, (\d+) failed$/m.exec(output);
    const failures = output.split('\n').filter((line) => line.startsWith('FAIL'));
    assert.ok(summary, `test.sh printed no summary (exit ${code}):\n${output.slice(-4000)}`);
    assert.deepEqual(failures, [], `failed checks:\n${failures.join('\n')}\n--- tail ---\n${output.slice(-4000)}`);
    assert.equal(summary[2], '0');
    assert.ok(Number(summary[1]) >= 250, `only ${summary[1]} checks ran`);
    assert.equal(code, 0, output.slice(-4000));
  });
});
