// Database-side expiry: every role the plugin creates gets VALID UNTIL a
// little after its lease ends, so Postgres refuses logins even if Vault's
// revoke never arrives. The margin lets Vault's own revocation come first.

/** Seconds VALID UNTIL lies beyond the lease end. */
export const VALID_UNTIL_MARGIN_SECONDS = 60;

/** When a role whose lease lasts `ttlSeconds` from `now` stops accepting logins. */
export function validUntil(ttlSeconds: number, now: Date = new Date()): Date {
  return new Date(now.getTime() + (ttlSeconds + VALID_UNTIL_MARGIN_SECONDS) * 1000);
}

/** `{{expiration}}` as Vault formats it (Go layout `2006-01-02 15:04:05-0700`), in UTC. */
export function formatExpiration(date: Date): string {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+0000`;
}
