package main

import (
	"fmt"
	"os"

	hclog "github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/grpclog"
)

// envGRPCLogging switches gRPC's own log lines on (BAO_GRPC_LOGGING, or its
// VAULT_ twin), as in the real server. They then go to a "grpclogfaker"
// logger, and only when that logger is at debug level or below: among them
// are the TLS handshake failures of the host's broker servers, such as a
// plugin dialing back without ALPN "h2".
const envGRPCLogging = "BAO_GRPC_LOGGING"

// grpcLogger adapts gRPC's LoggerV2 to hclog the way the server's
// grpclogFaker does.
type grpcLogger struct {
	logger  hclog.Logger
	enabled bool
}

func installGRPCLogger(logger hclog.Logger, env *serverEnvironment) {
	grpclog.SetLoggerV2(&grpcLogger{
		logger:  logger.Named("grpclogfaker"),
		enabled: env.lookupBao(envGRPCLogging) != "",
	})
}

func (g *grpcLogger) on() bool { return g.enabled && g.logger.IsDebug() }

func (g *grpcLogger) Info(args ...any) {
	if g.on() {
		g.logger.Info(fmt.Sprint(args...))
	}
}

func (g *grpcLogger) Infoln(args ...any) {
	if g.on() {
		g.logger.Info(fmt.Sprintln(args...))
	}
}

func (g *grpcLogger) Infof(format string, args ...any) {
	if g.on() {
		g.logger.Info(fmt.Sprintf(format, args...))
	}
}

func (g *grpcLogger) Warning(args ...any) {
	if g.on() {
		g.logger.Warn(fmt.Sprint(args...))
	}
}

func (g *grpcLogger) Warningln(args ...any) {
	if g.on() {
		g.logger.Warn(fmt.Sprintln(args...))
	}
}

func (g *grpcLogger) Warningf(format string, args ...any) {
	if g.on() {
		g.logger.Warn(fmt.Sprintf(format, args...))
	}
}

func (g *grpcLogger) Error(args ...any) {
	if g.on() {
		g.logger.Error(fmt.Sprint(args...))
	}
}

func (g *grpcLogger) Errorln(args ...any) {
	if g.on() {
		g.logger.Error(fmt.Sprintln(args...))
	}
}

func (g *grpcLogger) Errorf(format string, args ...any) {
	if g.on() {
		g.logger.Error(fmt.Sprintf(format, args...))
	}
}

// Fatal logs (when enabled) and exits, as gRPC expects of a fatal log.
func (g *grpcLogger) Fatal(args ...any) {
	if g.on() {
		g.logger.Error(fmt.Sprint(args...))
	}
	os.Exit(1)
}

func (g *grpcLogger) Fatalln(args ...any) { g.Fatal(fmt.Sprintln(args...)) }

func (g *grpcLogger) Fatalf(format string, args ...any) { g.Fatal(fmt.Sprintf(format, args...)) }

// V reports whether gRPC's verbose level l is on, compared with the hclog
// level as the server does.
func (g *grpcLogger) V(l int) bool { return l >= int(g.logger.GetLevel()) }
