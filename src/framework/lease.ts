// The lease TTL Vault will grant (sdk/framework lease.go CalculateTTL, the
// secret branch: no period, no explicit max). The engine uses it to give a
// database role a `VALID UNTIL` matching the lease, so the database refuses
// logins even if a revoke never arrives.

import { ErrorKind, GO_ZERO_TIME, VaultError } from '../vault';
import type { SystemView } from '../vault';
import { formatDuration } from './duration';

/** Inputs of the TTL calculation, seconds. */
export interface TtlInputs {
  /** Renew increment the caller asked for; wins over backendTtl. Absent or 0: none. */
  increment?: number;
  /** TTL the backend proposes (role default_ttl). Absent or 0: the mount default. */
  backendTtl?: number;
  /** Backend maximum (role max_ttl); only lowers the mount maximum. Absent or 0: none. */
  backendMaxTtl?: number;
  /** Lease issue time; the maximum counts from it. Absent or Go's zero time: now. */
  startTime?: Date;
  /** The current time. Absent: the clock. */
  now?: Date;
}

/** The granted TTL and why it was shortened, if it was. */
export interface TtlResult {
  /** Seconds. */
  ttl: number;
  /** Vault's capping warning, ready to pass on in a response. */
  warnings: string[];
}

/**
 * The TTL Vault grants for a lease with these inputs. Throws a UserError
 * `past the max TTL, cannot renew` when the maximum has already passed.
 */
export async function calculateTtl(systemView: SystemView, inputs: TtlInputs): Promise<TtlResult> {
  // TTLs have second precision in Vault; truncate like it does so both sides agree.
  const now = wholeSeconds(inputs.now ?? new Date());
  const start =
    inputs.startTime === undefined || inputs.startTime.getTime() === GO_ZERO_TIME.getTime()
      ? now
      : wholeSeconds(inputs.startTime);

  let maxTtl = await systemView.maxLeaseTtl();
  const backendMaxTtl = inputs.backendMaxTtl ?? 0;
  if (backendMaxTtl > 0 && backendMaxTtl < maxTtl) maxTtl = backendMaxTtl;
  if (maxTtl <= 0) throw new VaultError(ErrorKind.UserError, 'max TTL must be greater than zero');

  const increment = inputs.increment ?? 0;
  const backendTtl = inputs.backendTtl ?? 0;
  let ttl: number;
  if (increment > 0) ttl = increment;
  else if (backendTtl > 0) ttl = backendTtl;
  else ttl = await systemView.defaultLeaseTtl();

  const maxValidTtl = start + maxTtl - now;
  if (maxValidTtl <= 0) throw new VaultError(ErrorKind.UserError, 'past the max TTL, cannot renew');
  const warnings: string[] = [];
  if (ttl > maxValidTtl) {
    warnings.push(
      `TTL of "${formatDuration(ttl)}" exceeded the effective max_ttl of "${formatDuration(maxValidTtl)}"; ` +
        'TTL value is capped accordingly',
    );
    ttl = maxValidTtl;
  }
  return { ttl, warnings };
}

function wholeSeconds(time: Date): number {
  return Math.floor(time.getTime() / 1000);
}
