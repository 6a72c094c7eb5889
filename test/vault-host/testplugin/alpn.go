package main

// Modes that speak TLS without ALPN "h2", which grpc-go 1.67 and later
// refuse in both directions:
//
//   - -alpn-off-serve: the plugin serves its main connection itself (the
//     go-plugin handshake by hand: AutoMTLS certificate, unix socket,
//     handshake line) with TLS that never selects h2, so the host's dial is
//     refused ("missing selected ALPN property").
//   - -alpn-off-dial: the plugin is served by go-plugin as usual, but its
//     Setup dials the host's broker with TLS that does not offer h2, so the
//     host's broker server drops the connection.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"reflect"
	"time"
	"unsafe"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	sdkplugin "github.com/openbao/openbao/sdk/v2/plugin"
	"github.com/openbao/openbao/sdk/v2/plugin/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// tlsWithoutALPN is gRPC transport security that leaves ALPN out: the
// config's NextProtos stay empty, where grpc-go's own TLS credentials always
// add h2.
type tlsWithoutALPN struct {
	config *tls.Config
}

func newTLSWithoutALPN(config *tls.Config) tlsWithoutALPN {
	config = config.Clone()
	config.NextProtos = nil
	return tlsWithoutALPN{config: config}
}

func (c tlsWithoutALPN) authInfo(conn *tls.Conn) credentials.AuthInfo {
	return credentials.TLSInfo{
		State:          conn.ConnectionState(),
		CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
	}
}

func (c tlsWithoutALPN) ClientHandshake(ctx context.Context, _ string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn := tls.Client(raw, c.config.Clone())
	if err := conn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, c.authInfo(conn), nil
}

func (c tlsWithoutALPN) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn := tls.Server(raw, c.config.Clone())
	if err := conn.Handshake(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, c.authInfo(conn), nil
}

func (c tlsWithoutALPN) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls", SecurityVersion: "1.2"}
}

func (c tlsWithoutALPN) Clone() credentials.TransportCredentials {
	return tlsWithoutALPN{config: c.config.Clone()}
}

func (c tlsWithoutALPN) OverrideServerName(string) error { return nil }

// serveWithoutALPN is the -alpn-off-serve mode. It only answers a protocol
// 5 launch with AutoMTLS; any other launch fails like a plugin that cannot
// serve it.
func serveWithoutALPN(j *journal, logger hclog.Logger) {
	if os.Getenv(sdkplugin.HandshakeConfig.MagicCookieKey) != sdkplugin.HandshakeConfig.MagicCookieValue {
		fmt.Fprintln(os.Stderr, "This binary is a plugin. These are not meant to be executed directly.")
		os.Exit(1)
	}
	hostCert := os.Getenv("PLUGIN_CLIENT_CERT")
	if hostCert == "" || os.Getenv("PLUGIN_PROTOCOL_VERSIONS") != "5" {
		logger.Error("the ALPN-off mode only serves protocol 5 with AutoMTLS")
		os.Exit(1)
	}
	hostPool := x509.NewCertPool()
	hostPool.AppendCertsFromPEM([]byte(hostCert))
	cert, err := selfSignedLocalhost()
	if err != nil {
		logger.Error("cannot make a certificate", "error", err)
		os.Exit(1)
	}
	listener, err := listenUnix()
	if err != nil {
		logger.Error("cannot listen", "error", err)
		os.Exit(1)
	}
	creds := newTLSWithoutALPN(&tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    hostPool,
		MinVersion:   tls.VersionTLS12,
	})
	server := grpc.NewServer(grpc.Creds(creds), grpc.ChainUnaryInterceptor(j.unaryInterceptor))
	j.record("alpn-off-serve", map[string]any{"socket": listener.Addr().String()})
	fmt.Printf("1|5|unix|%s|grpc|%s\n", listener.Addr().String(), base64.RawStdEncoding.EncodeToString(cert.Certificate[0]))
	server.Serve(listener)
}

// listenUnix listens on a fresh socket path in the temporary directory.
func listenUnix() (net.Listener, error) {
	dir := os.Getenv("PLUGIN_UNIX_SOCKET_DIR")
	f, err := os.CreateTemp(dir, "plugin")
	if err != nil {
		return nil, err
	}
	path := f.Name()
	f.Close()
	os.Remove(path)
	return net.Listen("unix", path)
}

// selfSignedLocalhost makes the certificate a go-plugin server makes for
// itself: self-signed, for "localhost", usable by server and client.
func selfSignedLocalhost() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"HashiCorp"}},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-30 * time.Second),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// alpnOffDialPlugin is the -alpn-off-dial mode's protocol-5 plugin: only
// Setup is served, and it fails with what the broker dial ran into.
type alpnOffDialPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	journal *journal
}

func (p *alpnOffDialPlugin) GRPCServer(broker *goplugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBackendServer(s, &alpnOffDialBackend{broker: broker, journal: p.journal})
	return nil
}

func (p *alpnOffDialPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("the test plugin has no client side")
}

type alpnOffDialBackend struct {
	pb.UnimplementedBackendServer
	broker  *goplugin.GRPCBroker
	journal *journal
}

func (b *alpnOffDialBackend) Setup(ctx context.Context, args *pb.SetupArgs) (*pb.SetupReply, error) {
	config, err := brokerTLSConfig(b.broker)
	if err != nil {
		return &pb.SetupReply{Err: err.Error()}, nil
	}
	conn, err := b.broker.DialWithOptions(args.BrokerID, grpc.WithTransportCredentials(newTLSWithoutALPN(config)))
	if err != nil {
		return &pb.SetupReply{Err: fmt.Sprintf("dial broker: %v", err)}, nil
	}
	defer conn.Close()
	_, err = pb.NewStorageClient(conn).Get(ctx, &pb.StorageGetArgs{Key: "alpn-probe"})
	b.journal.record("alpn-off-dial", map[string]any{"error": errText(func() error { return err })})
	return &pb.SetupReply{Err: fmt.Sprintf("storage over a broker connection without ALPN: %v", err)}, nil
}

// brokerTLSConfig is the TLS configuration go-plugin's broker dials the host
// with (the plugin's AutoMTLS certificate, the host's as root). go-plugin
// keeps it in an unexported field; this mode needs it to present the right
// certificate, so that the refusal is about ALPN and nothing else.
func brokerTLSConfig(broker *goplugin.GRPCBroker) (*tls.Config, error) {
	field := reflect.ValueOf(broker).Elem().FieldByName("tls")
	if !field.IsValid() || field.IsNil() {
		return nil, errors.New("the broker has no TLS configuration")
	}
	return (*tls.Config)(unsafe.Pointer(field.Pointer())).Clone(), nil
}
