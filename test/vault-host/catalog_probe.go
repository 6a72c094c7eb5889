package main

// Registration probes: the catalog starts a plugin to learn its type (when
// registered without one) and its self-reported version. They follow
// OpenBao's vault/plugin_catalog.go getPluginTypeFromUnknown,
// isDatabasePlugin, getBackendPluginType, getBackendRunningVersion and
// getDatabaseRunningVersion, step for step, including which errors are
// collected and which are dropped.

import (
	"context"
	"fmt"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-multierror"
	goplugin "github.com/hashicorp/go-plugin"
	dbpluginv4 "github.com/openbao/openbao/sdk/v2/database/dbplugin"
	dbpluginv5 "github.com/openbao/openbao/sdk/v2/database/dbplugin/v5"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/helper/pluginutil"
	"github.com/openbao/openbao/sdk/v2/logical"
	sdkplugin "github.com/openbao/openbao/sdk/v2/plugin"
)

// probeConfig is the client configuration of a protocol-5 probe launch.
func (c *pluginCatalog) probeConfig(runner *pluginutil.PluginRunner, sets map[int]goplugin.PluginSet, handshake goplugin.HandshakeConfig, metadataMode bool, logger hclog.Logger) pluginutil.PluginClientConfig {
	return pluginutil.PluginClientConfig{
		Name:            runner.Name,
		PluginSets:      sets,
		HandshakeConfig: handshake,
		Logger:          logger,
		IsMetadataMode:  metadataMode,
		AutoMTLS:        true,
		Wrapper:         c.probeSystemView,
	}
}

// databaseProbeConfig is the client configuration of a database v5 probe:
// the database cookie, protocols 5 and 6, metadata mode.
func (c *pluginCatalog) databaseProbeConfig(runner *pluginutil.PluginRunner, logger hclog.Logger) pluginutil.PluginClientConfig {
	config := c.probeConfig(runner, dbpluginv5.PluginSets, dbpluginv5.HandshakeConfig, true, logger)
	config.PluginType = consts.PluginTypeDatabase
	config.Version = runner.Version
	return config
}

// releaseProbe closes a probe's connection, which kills its process through
// go-plugin (controller Shutdown, then SIGKILL after 2 s). No Backend.Cleanup
// RPC is sent on this path.
func (c *pluginCatalog) releaseProbe(runner *pluginutil.PluginRunner, conn *pluginConnection) {
	key, err := processKeyOf(runner)
	if err == nil {
		err = c.closeConnection(key, conn.id, runner.Command)
	}
	if err != nil {
		c.logger.Error("error closing plugin client", "error", err)
	}
}

// pluginTypeFromUnknown tries the plugin as a database plugin, then as a
// backend plugin. c.mu must be held.
func (c *pluginCatalog) pluginTypeFromUnknown(ctx context.Context, runner *pluginutil.PluginRunner) (consts.PluginType, error) {
	merr := &multierror.Error{}
	err := c.isDatabasePlugin(ctx, runner)
	if err == nil {
		return consts.PluginTypeDatabase, nil
	}
	merr = multierror.Append(merr, err)

	pluginType, err := c.backendPluginType(ctx, runner)
	if err == nil {
		return pluginType, nil
	}
	merr = multierror.Append(merr, err)
	return consts.PluginTypeUnknown, merr
}

// isDatabasePlugin launches the plugin with the database cookie, first as a
// database v5 plugin (protocols 5 and 6, metadata mode), then as v4.
func (c *pluginCatalog) isDatabasePlugin(ctx context.Context, runner *pluginutil.PluginRunner) error {
	merr := &multierror.Error{}
	c.logger.Debug("attempting to load database plugin as v5", "name", runner.Name)
	conn, err := c.newConnection(ctx, runner, c.databaseProbeConfig(runner, hclog.NewNullLogger()))
	if err == nil {
		c.releaseProbe(runner, conn)
		return nil
	}
	merr = multierror.Append(merr, fmt.Errorf("failed to load plugin as database v5: %w", err))

	c.logger.Debug("attempting to load database plugin as v4", "name", runner.Name)
	v4Client, err := dbpluginv4.NewPluginClient(ctx, c.probeSystemView, c.launchRunner(runner), hclog.NewNullLogger(), true)
	if err == nil {
		if err := v4Client.Close(); err != nil {
			c.logger.Error("error closing plugin client", "error", err)
		}
		return nil
	}
	merr = multierror.Append(merr, fmt.Errorf("failed to load plugin as database v4: %w", err))
	return merr.ErrorOrNil()
}

// backendPluginType launches the plugin as a backend (v5, else v4 in
// metadata mode), runs Setup with an empty configuration and asks its type.
func (c *pluginCatalog) backendPluginType(ctx context.Context, runner *pluginutil.PluginRunner) (consts.PluginType, error) {
	merr := &multierror.Error{}
	config := c.probeConfig(runner, sdkplugin.PluginSet, sdkplugin.HandshakeConfig, false, hclog.NewNullLogger())

	var backend logical.Backend
	attemptV4 := false
	c.logger.Debug("attempting to load backend plugin", "name", runner.Name)
	conn, err := c.newConnection(ctx, runner, config)
	if err == nil {
		defer c.releaseProbe(runner, conn)
		backend, err = sdkplugin.Dispense(conn.ClientProtocol, conn)
		if err != nil {
			merr = multierror.Append(merr, fmt.Errorf("failed to dispense plugin as backend v5: %w", err))
			c.logger.Debug("failed to dispense v5 backend plugin", "name", runner.Name)
			attemptV4 = true
		} else {
			c.logger.Debug("successfully dispensed v5 backend plugin", "name", runner.Name)
		}
	} else {
		attemptV4 = true
	}

	if attemptV4 {
		c.logger.Debug("failed to dispense v5 backend plugin", "name", runner.Name)
		if backend, merr = c.dispenseLegacyProbe(ctx, runner, merr); backend == nil {
			return consts.PluginTypeUnknown, merr.ErrorOrNil()
		}
		defer backend.Cleanup(ctx)
	}

	if err := backend.Setup(ctx, &logical.BackendConfig{}); err != nil {
		return consts.PluginTypeUnknown, err
	}
	switch backend.Type() {
	case logical.TypeCredential:
		return consts.PluginTypeCredential, nil
	case logical.TypeLogical:
		return consts.PluginTypeSecrets, nil
	}
	if backend.Type() == logical.TypeUnknown {
		c.logger.Warn("unknown plugin type", "plugin name", runner.Name, "error", merr.Error())
	} else {
		c.logger.Warn("unsupported plugin type", "plugin name", runner.Name, "plugin type", backend.Type().String(), "error", merr.Error())
	}
	// The real catalog wraps the (nil) error of this point; its message
	// reads "%!w(<nil>)" there as well.
	merr = multierror.Append(merr, fmt.Errorf("failed to load plugin as backend plugin: %w", err))
	return consts.PluginTypeUnknown, merr.ErrorOrNil()
}

// backendRunningVersion launches the plugin as a backend, runs Setup with an
// empty configuration (no Config, no BackendUUID, no storage or system
// view) and asks PluginVersion. A failing Setup yields no version and no
// error.
func (c *pluginCatalog) backendRunningVersion(ctx context.Context, runner *pluginutil.PluginRunner) (logical.PluginVersion, error) {
	merr := &multierror.Error{}
	config := c.probeConfig(runner, sdkplugin.PluginSet, sdkplugin.HandshakeConfig, false, hclog.NewNullLogger())

	c.logger.Debug("attempting to load backend plugin", "name", runner.Name)
	conn, err := c.newConnection(ctx, runner, config)
	if err == nil {
		defer c.releaseProbe(runner, conn)
		var backend logical.Backend
		backend, err = sdkplugin.Dispense(conn.ClientProtocol, conn)
		if err == nil {
			c.logger.Debug("successfully dispensed v5 backend plugin", "name", runner.Name)
			if err := backend.Setup(ctx, &logical.BackendConfig{}); err != nil {
				return logical.EmptyPluginVersion, nil
			}
			return reportedVersion(backend), nil
		}
		merr = multierror.Append(merr, fmt.Errorf("failed to dispense plugin as backend v5: %w", err))
	}
	c.logger.Debug("failed to dispense v5 backend plugin", "name", runner.Name, "error", err)

	backend, merr := c.dispenseLegacyProbe(ctx, runner, merr)
	if backend == nil {
		return logical.EmptyPluginVersion, merr.ErrorOrNil()
	}
	defer backend.Cleanup(ctx)
	if err := backend.Setup(ctx, &logical.BackendConfig{}); err != nil {
		return logical.EmptyPluginVersion, err
	}
	return reportedVersion(backend), nil
}

// databaseRunningVersion asks a database plugin its version (v5 in metadata
// mode, else v4).
func (c *pluginCatalog) databaseRunningVersion(ctx context.Context, runner *pluginutil.PluginRunner) (logical.PluginVersion, error) {
	merr := &multierror.Error{}
	c.logger.Debug("attempting to load database plugin as v5", "name", runner.Name)
	conn, err := c.newConnection(ctx, runner, c.databaseProbeConfig(runner, hclog.Default()))
	if err == nil {
		defer c.releaseProbe(runner, conn)
		raw, err := conn.Dispense("database")
		if err != nil {
			return logical.EmptyPluginVersion, err
		}
		return reportedVersion(raw), nil
	}
	merr = multierror.Append(merr, fmt.Errorf("failed to load plugin as database v5: %w", err))

	c.logger.Debug("attempting to load database plugin as v4", "name", runner.Name)
	v4Client, err := dbpluginv4.NewPluginClient(ctx, c.probeSystemView, c.launchRunner(runner), hclog.NewNullLogger(), true)
	if err == nil {
		defer func() {
			if err := v4Client.Close(); err != nil {
				c.logger.Error("error closing plugin client", "error", err)
			}
		}()
		return reportedVersion(v4Client), nil
	}
	merr = multierror.Append(merr, fmt.Errorf("failed to load plugin as database v4: %w", err))
	return logical.EmptyPluginVersion, merr
}

// dispenseLegacyProbe starts the plugin as a protocol 3/4 backend in
// metadata mode (no TLS). It returns nil and merr with the failure added when
// that does not work either.
func (c *pluginCatalog) dispenseLegacyProbe(ctx context.Context, runner *pluginutil.PluginRunner, merr *multierror.Error) (logical.Backend, *multierror.Error) {
	backend, err := sdkplugin.NewPluginClient(ctx, c.probeSystemView, c.launchRunner(runner), hclog.NewNullLogger(), true)
	if err != nil {
		merr = multierror.Append(merr, fmt.Errorf("failed to dispense v4 backend plugin: %w", err))
		c.logger.Debug("failed to dispense v4 backend plugin", "name", runner.Name, "error", merr)
		return nil, merr
	}
	c.logger.Debug("successfully dispensed v4 backend plugin", "name", runner.Name)
	return backend, merr
}

// reportedVersion asks a dispensed plugin for its version, if it can say.
func reportedVersion(dispensed any) logical.PluginVersion {
	if versioner, ok := dispensed.(logical.PluginVersioner); ok {
		return versioner.PluginVersion()
	}
	return logical.EmptyPluginVersion
}
