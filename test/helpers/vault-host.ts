/**
 * The Vault the e2e tests drive over its HTTP API (a real server named by
 * VAULT_ADDR, or the bundled conformance host), and the conformance host
 * itself; shared with the demo and the benchmark in scripts/ and bench/.
 */
export * from '../../scripts/lib/vault-host';
export * from '../../scripts/lib/vault-under-test';
