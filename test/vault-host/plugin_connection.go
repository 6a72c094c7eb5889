package main

import (
	"context"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/openbao/openbao/sdk/v2/helper/pluginutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// pluginConnection is one user's (a mount's or a probe's) handle on a plugin
// process. It is the pluginutil.PluginClient the SDK's backend client is
// built on: Conn tags every call with the connection id, Close and Reload go
// back to the catalog's process table.
type pluginConnection struct {
	id     string
	pid    int
	logger hclog.Logger

	// client is the go-plugin client of the process; connections to a
	// multiplexed process share it.
	client *goplugin.Client
	conn   grpc.ClientConnInterface
	close  func() error
	reload func() error

	// The process's go-plugin protocol client (Dispense, Ping). Its own
	// Close would tear down the shared gRPC connection, so Close below
	// shadows it.
	goplugin.ClientProtocol
}

var _ pluginutil.PluginClient = (*pluginConnection)(nil)

func (c *pluginConnection) Conn() grpc.ClientConnInterface { return c.conn }

// Close releases the connection; the catalog decides whether the process
// dies with it.
func (c *pluginConnection) Close() error {
	c.logger.Debug("cleaning up plugin client connection", "id", c.id)
	return c.close()
}

// Reload releases the connection for a reload, which kills a multiplexed
// process outright.
func (c *pluginConnection) Reload() error {
	c.logger.Debug("reload external plugin process")
	return c.reload()
}

// multiplexConn adds the connection id as gRPC metadata multiplex_id to
// every call and stream, so a multiplexing plugin can tell its mounts apart.
// Plugins that do not multiplex get it too and ignore it.
type multiplexConn struct {
	*grpc.ClientConn
	id string
}

func (c *multiplexConn) withID(ctx context.Context) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs(pluginutil.MultiplexingCtxKey, c.id))
}

func (c *multiplexConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return c.ClientConn.Invoke(c.withID(ctx), method, args, reply, opts...)
}

func (c *multiplexConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.ClientConn.NewStream(c.withID(ctx), desc, method, opts...)
}
