/** The conformance host driven over Vault's HTTP API; shared with the demo in scripts/. */
export * from '../../scripts/lib/vault-host';
