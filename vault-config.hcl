# A Vault server configuration for running this plugin, e.g.
#   vault server -config=vault-config.hcl
# Adjust paths and addresses for your installation; this file keeps data on
# local disk and listens on loopback without TLS, which suits a workstation,
# not production.

# Vault only launches plugins from this directory. Copy
# dist/vault-plugin-secrets-postgres here (the file itself, not a symlink that
# leaves the directory) and make it executable by the user Vault runs as.
plugin_directory = "/etc/vault/plugins"

# Vault 1.15+: the owner and mode Vault requires of plugin files before it
# runs them. Leave unset to skip the check; if set, chown/chmod the binary to
# match.
# plugin_file_uid         = 1000
# plugin_file_permissions = "0750"

storage "file" {
  path = "/var/lib/vault/data"
}

listener "tcp" {
  address     = "127.0.0.1:8200"
  tls_disable = true
}

# The address Vault advertises for itself; plugins on protocol 5 do not need
# it (they reach Vault through the gRPC broker), but clients and UI do.
api_addr = "http://127.0.0.1:8200"

# Plugins do not use mlock; disabling it keeps the sample usable without
# CAP_IPC_LOCK. Enable it in production if your platform supports it.
disable_mlock = true

ui = true
