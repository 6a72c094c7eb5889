package main

// The catalog's process table: which plugin processes run, which connections
// (mounts, probes) use them, and when a process is killed. Behaviour follows
// OpenBao's vault/plugin_catalog.go (newPluginClient, cleanupExternalPlugin,
// reloadExternalPlugin), which current HashiCorp Vault shares.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-secure-stdlib/base62"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/helper/pluginutil"
)

// connectionIDLength is the length of the base62 id of every connection,
// sent as gRPC metadata multiplex_id.
const connectionIDLength = 10

var errConnectionNotFound = errors.New("plugin connection not found for client")

// processKey identifies processes that may be shared: only connections for
// an identical runner configuration can be multiplexed onto one process.
type processKey struct {
	name       string
	pluginType consts.PluginType
	version    string
	command    string
	args       string
	env        string
	sha256     string
}

func processKeyOf(runner *pluginutil.PluginRunner) (processKey, error) {
	args, err := json.Marshal(runner.Args)
	if err != nil {
		return processKey{}, err
	}
	env, err := json.Marshal(runner.Env)
	if err != nil {
		return processKey{}, err
	}
	return processKey{
		name:       runner.Name,
		pluginType: runner.Type,
		version:    runner.Version,
		command:    runner.Command,
		args:       string(args),
		env:        string(env),
		sha256:     hex.EncodeToString(runner.Sha256),
	}, nil
}

// processGroup is every live connection of one processKey. Connections of a
// multiplexed plugin share one process; otherwise each has its own.
type processGroup struct {
	connections map[string]*pluginConnection
	// multiplexed is what the plugin answered on the latest connection.
	multiplexed bool
}

// NewPluginClient is what a mount's system view hands to the SDK's
// NewBackendV5: a connection to the catalog entry named in config.
func (c *pluginCatalog) NewPluginClient(ctx context.Context, config pluginutil.PluginClientConfig) (pluginutil.PluginClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if config.Name == "" {
		return nil, errors.New("no name provided for plugin")
	}
	if config.PluginType == consts.PluginTypeUnknown {
		return nil, errors.New("no plugin type provided")
	}
	runner := c.getLocked(config.Name, config.PluginType, config.Version)
	if runner == nil {
		return nil, errors.New("no plugin found")
	}
	return c.newConnection(ctx, runner, config)
}

// newConnection opens a connection to runner's plugin: it joins the running
// process when that process said it multiplexes and still has connections,
// and launches a new one otherwise. Every new connection asks the plugin
// whether it multiplexes, before anything else is called on it. c.mu must be
// held.
func (c *pluginCatalog) newConnection(ctx context.Context, runner *pluginutil.PluginRunner, config pluginutil.PluginClientConfig) (*pluginConnection, error) {
	key, err := processKeyOf(runner)
	if err != nil {
		return nil, err
	}
	group := c.processes[key]
	if group == nil {
		group = &processGroup{connections: map[string]*pluginConnection{}}
		c.processes[key] = group
	}
	id, err := base62.Random(connectionIDLength)
	if err != nil {
		return nil, err
	}
	conn := &pluginConnection{
		id:     id,
		logger: c.logger.Named(runner.Name),
		close: func() error {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.closeConnection(key, id, runner.Command)
		},
		reload: func() error {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.reloadConnection(key, id, runner.Command)
		},
	}

	launched := !group.multiplexed || len(group.connections) == 0
	if launched {
		c.logger.Debug("spawning a new plugin process", "plugin_name", runner.Name, "id", id)
		conn.client, err = c.launchRunner(runner).RunConfig(ctx,
			pluginutil.PluginSets(config.PluginSets),
			pluginutil.HandshakeConfig(config.HandshakeConfig),
			pluginutil.Logger(config.Logger),
			pluginutil.MetadataMode(config.IsMetadataMode),
			pluginutil.AutoMTLS(config.AutoMTLS),
			pluginutil.Runner(config.Wrapper),
		)
		if err != nil {
			return nil, err
		}
	} else {
		c.logger.Debug("returning existing plugin client for multiplexed plugin", "id", id)
		for _, existing := range group.connections {
			conn.client = existing.client
			break
		}
	}

	// The real catalog leaves a process it launched running when the
	// connection fails from here on; this host stops it (README).
	abandon := func(err error) (*pluginConnection, error) {
		if launched {
			conn.client.Kill()
		}
		return nil, err
	}
	rpcClient, err := conn.client.Client()
	if err != nil {
		return abandon(err)
	}
	if reattach := conn.client.ReattachConfig(); reattach != nil {
		conn.pid = reattach.Pid
	}
	grpcClient, ok := rpcClient.(*goplugin.GRPCClient)
	if !ok {
		return abandon(fmt.Errorf("plugin %q does not speak gRPC", runner.Name))
	}
	multiplexed, err := pluginutil.MultiplexingSupported(ctx, grpcClient.Conn, config.Name)
	if err != nil {
		return abandon(err)
	}
	conn.ClientProtocol = rpcClient
	conn.conn = &multiplexConn{ClientConn: grpcClient.Conn, id: id}
	group.connections[id] = conn
	group.multiplexed = multiplexed
	return conn, nil
}

// closeConnection drops a connection: the process is killed unless it is a
// multiplexed process that other connections still use (and that is still
// running). c.mu must be held.
func (c *pluginCatalog) closeConnection(key processKey, id, command string) error {
	group := c.processes[key]
	if group == nil {
		return errors.New("plugin client not found")
	}
	conn := group.connections[id]
	if conn == nil {
		// Happens when the process was killed out of band and the mount
		// reloaded in the meantime.
		c.logger.Warn(errConnectionNotFound.Error(), "id", id)
		return fmt.Errorf("%w id: %s", errConnectionNotFound, id)
	}
	delete(group.connections, id)
	c.logger.Debug("removed plugin client connection", "id", id)

	switch {
	case !group.multiplexed:
		conn.client.Kill()
		if len(group.connections) == 0 {
			delete(c.processes, key)
		}
		c.logger.Debug("killed external plugin process", "path", command, "pid", conn.pid)
	case len(group.connections) == 0 || conn.client.Exited():
		conn.client.Kill()
		delete(c.processes, key)
		c.logger.Debug("killed external multiplexed plugin process", "path", command, "pid", conn.pid)
	}
	return nil
}

// reloadConnection is closeConnection for a reload: a multiplexed process is
// killed even though other connections use it; their mounts come back
// through the crash path on their next request. c.mu must be held.
func (c *pluginCatalog) reloadConnection(key processKey, id, command string) error {
	group := c.processes[key]
	if group == nil {
		return errors.New("plugin client not found")
	}
	if !group.multiplexed {
		return c.closeConnection(key, id, command)
	}
	conn := group.connections[id]
	if conn == nil {
		return fmt.Errorf("%w id: %s", errConnectionNotFound, id)
	}
	delete(c.processes, key)
	conn.client.Kill()
	c.logger.Debug("killed external plugin process for reload", "path", command, "pid", conn.pid)
	return nil
}

// killAll stops every plugin process (host shutdown).
func (c *pluginCatalog) killAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	killed := map[*goplugin.Client]bool{}
	for key, group := range c.processes {
		for _, conn := range group.connections {
			if !killed[conn.client] {
				killed[conn.client] = true
				conn.client.Kill()
			}
		}
		delete(c.processes, key)
	}
}
