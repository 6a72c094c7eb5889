/** Assertions on the server log, which a real server only offers through VAULT_LOG_FILE. */
import type { TestContext } from 'node:test';
import type { VaultUnderTest } from './vault-host';

const NO_LOG = 'the server log cannot be read: start the server with 2> FILE and set VAULT_LOG_FILE=FILE';

/**
 * Runs `check` on what the server logged as a subtest named `what`, so that
 * without a readable log only this check is reported as skipped (with the
 * reason) and the rest of the test still counts.
 */
export async function checkServerLog(t: TestContext, vault: VaultUnderTest, what: string, check: (log: string) => void): Promise<void> {
  await t.test(what, (sub) => {
    const log = vault.logs();
    if (log === undefined) {
      sub.skip(NO_LOG);
      return;
    }
    check(log);
  });
}

/** The end of the server log for a failure message, or a note that there is none. */
export function logTail(vault: VaultUnderTest, chars = 3000): string {
  return vault.logs()?.slice(-chars) ?? `(${NO_LOG})`;
}
