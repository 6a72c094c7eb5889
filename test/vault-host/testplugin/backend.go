package main

// The test plugin's secrets engine, a framework.Backend:
//
//	info             read: the request as it came over the wire, the
//	                 process (pid, env, multiplex id) and SystemView values
//	kv/<key>         read/create/update/delete, kv/ list (existence check)
//	creds/<role>     read: a leased secret (?ttl=<seconds>, default 60);
//	                 role "broken" gives leases whose revoke always fails
//	debug/<key>      read a raw storage value; debug/<prefix> list
//	error/<kind>     read: user | coded | unsupported | invalid | other
//	password/<name>  read: SystemView.GeneratePasswordFromPolicy; a failure
//	                 comes back as data {grpc_code, grpc_message}
//	external/<name>  read: stands for a call to an external system; on a
//	                 performance standby it refuses with logical.ErrReadOnly
//	                 before touching anything (?as=error|wrapped|response)
//	crash            write: answers, then the process exits
//	stdio            write: prints markers to stdout and stderr
//	helpmode         write {"mode": M}: see help.go
//
// Requests the tests inspect later are stored (as on the wire) under
// last/existence, last/write, last/renew, last/revoke, last/rollback,
// last/help and last/write-op; revocations under revoked/<user>.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/helper/errutil"
	"github.com/openbao/openbao/sdk/v2/logical"
	"github.com/openbao/openbao/sdk/v2/plugin/pb"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// crashDelay lets the answer to a crash request reach the host first.
const crashDelay = 200 * time.Millisecond

// defaultCredsTTL is the lease of creds/<role> without ?ttl.
const defaultCredsTTL = 60 * time.Second

type testBackend struct {
	*framework.Backend
	journal *journal
	opts    options
	// issued numbers the usernames of this mount.
	issued atomic.Int64
	conf   *logical.BackendConfig
	// rollbacksRunning counts this mount's rollbacks in progress;
	// rollbackOverlaps counts those that began while another ran.
	rollbacksRunning atomic.Int32
	rollbackOverlaps atomic.Int32
}

// envRollbackDelay (a Go duration) makes every rollback of the test plugin
// take that long, so that a host sending overlapping rollbacks is caught.
const envRollbackDelay = "TESTPLUGIN_ROLLBACK_DELAY"

// newFactory returns the plugin's logical.Factory. Setup calls it with the
// configuration the host sent; what it finds is journalled, including
// whether storage and the system view answer (they do not during the
// catalog's registration probe) and whether storage takes a write (it does
// not while the host sets a mount up).
func newFactory(opts options, j *journal) logical.Factory {
	return func(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
		setup := callFields(ctx, "factory")
		setup["config"] = conf.Config
		setup["has_config"] = len(conf.Config) > 0
		setup["backend_uuid"] = conf.BackendUUID
		setup["storage_read_error"] = errText(func() error { _, err := conf.StorageView.Get(ctx, "setup-probe"); return err })
		setup["storage_write_error"] = errText(func() error {
			return conf.StorageView.Put(ctx, &logical.StorageEntry{Key: "setup-probe", Value: []byte("written during Setup")})
		})
		setup["sysview_error"] = errText(func() error { _, err := conf.System.PluginEnv(ctx); return err })
		state := conf.System.ReplicationState()
		setup["replication_state"] = uint32(state)
		setup["performance_standby"] = state.HasState(consts.ReplicationPerformanceStandby)
		j.record("setup", setup)

		b := &testBackend{journal: j, opts: opts, conf: conf}
		b.Backend = &framework.Backend{
			Help:           "The vault-host test plugin.",
			BackendType:    logical.TypeLogical,
			RunningVersion: opts.reportedVersion,
			Paths:          b.paths(),
			Secrets:        []*framework.Secret{b.credsSecret()},
			InitializeFunc: b.initialize,
			PeriodicFunc:   b.rollback,
			Clean:          func(context.Context) { conf.Logger.Info("cleanup called") },
		}
		if err := b.Backend.Setup(ctx, conf); err != nil {
			return nil, err
		}
		return &helpModes{testBackend: b}, nil
	}
}

func errText(call func() error) string {
	if err := call(); err != nil {
		return err.Error()
	}
	return ""
}

// initialize writes storage without looking at the replication state, so
// on a performance standby it fails with the read-only storage error (the
// journal records the outcome).
func (b *testBackend) initialize(ctx context.Context, req *logical.InitializationRequest) error {
	err := put(ctx, req.Storage, "initialized", []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	fields := callFields(ctx, "initialize")
	fields["performance_standby"] = b.onPerformanceStandby()
	fields["write_error"] = errText(func() error { return err })
	b.journal.record("initialize", fields)
	return err
}

func (b *testBackend) onPerformanceStandby() bool {
	return b.System().ReplicationState().HasState(consts.ReplicationPerformanceStandby)
}

func (b *testBackend) rollback(ctx context.Context, req *logical.Request) error {
	recordWire(ctx, req.Storage, "last/rollback")
	if b.rollbacksRunning.Add(1) > 1 {
		b.rollbackOverlaps.Add(1)
	}
	defer b.rollbacksRunning.Add(-1)
	if delay, err := time.ParseDuration(os.Getenv(envRollbackDelay)); err == nil {
		time.Sleep(delay)
	}
	if err := put(ctx, req.Storage, "rollback-overlaps", []byte(strconv.Itoa(int(b.rollbackOverlaps.Load())))); err != nil {
		return err
	}
	count := 0
	if raw, _ := req.Storage.Get(ctx, "rollback-count"); raw != nil {
		count, _ = strconv.Atoi(string(raw.Value))
	}
	return put(ctx, req.Storage, "rollback-count", []byte(strconv.Itoa(count+1)))
}

func put(ctx context.Context, s logical.Storage, key string, value []byte) error {
	return s.Put(ctx, &logical.StorageEntry{Key: key, Value: value})
}

// wireJSON renders the request this call carried on the wire.
func wireJSON(ctx context.Context) json.RawMessage {
	var msg proto.Message
	switch args := wireRequest(ctx).(type) {
	case *pb.HandleRequestArgs:
		msg = args.Request
	case *pb.HandleExistenceCheckArgs:
		msg = args.Request
	default:
		return json.RawMessage("null")
	}
	buf, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(msg)
	if err != nil {
		return json.RawMessage("null")
	}
	return buf
}

// recordWire stores the wire request under key for the tests to read.
func recordWire(ctx context.Context, s logical.Storage, key string) {
	put(ctx, s, key, wireJSON(ctx))
}

func (b *testBackend) paths() []*framework.Path {
	key := map[string]*framework.FieldSchema{"key": {Type: framework.TypeString, Description: "Key name."}}
	return []*framework.Path{
		{
			Pattern:      "info$",
			Operations:   map[logical.Operation]framework.OperationHandler{logical.ReadOperation: &framework.PathOperation{Callback: b.info}},
			HelpSynopsis: "Request shape and SystemView values.",
		},
		{
			Pattern: "kv/?$",
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{Callback: b.listStorage("kv/")},
			},
			HelpSynopsis: "List key/value entries.",
		},
		{
			Pattern:             "kv/(?P<key>.+)",
			Fields:              key,
			TakesArbitraryInput: true,
			ExistenceCheck:      b.kvExists,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation:   &framework.PathOperation{Callback: b.kvRead},
				logical.CreateOperation: &framework.PathOperation{Callback: b.kvWrite},
				logical.UpdateOperation: &framework.PathOperation{Callback: b.kvWrite},
				logical.DeleteOperation: &framework.PathOperation{Callback: b.kvDelete},
			},
			HelpSynopsis: "Key/value entries.",
		},
		{
			Pattern: "creds/(?P<role>.+)",
			Fields: map[string]*framework.FieldSchema{
				"role": {Type: framework.TypeString, Description: "Role name."},
				"ttl":  {Type: framework.TypeDurationSecond, Description: "Lease TTL."},
			},
			Operations:   map[logical.Operation]framework.OperationHandler{logical.ReadOperation: &framework.PathOperation{Callback: b.creds}},
			HelpSynopsis: "Leased credentials.",
		},
		{
			Pattern:      "debug/(?P<key>.+)",
			Fields:       key,
			Operations:   map[logical.Operation]framework.OperationHandler{logical.ReadOperation: &framework.PathOperation{Callback: b.debugRead}},
			HelpSynopsis: "Raw storage values.",
		},
		{
			Pattern:      "error/(?P<kind>.+)",
			Fields:       map[string]*framework.FieldSchema{"kind": {Type: framework.TypeString, Description: "Kind of error."}},
			Operations:   map[logical.Operation]framework.OperationHandler{logical.ReadOperation: &framework.PathOperation{Callback: b.failure}},
			HelpSynopsis: "Fails in the way named.",
		},
		{
			Pattern:      "password/(?P<policy>.*)",
			Fields:       map[string]*framework.FieldSchema{"policy": {Type: framework.TypeString, Description: "Password policy name."}},
			Operations:   map[logical.Operation]framework.OperationHandler{logical.ReadOperation: &framework.PathOperation{Callback: b.password}},
			HelpSynopsis: "A password from a policy, through the system view.",
		},
		{
			Pattern: "external/(?P<name>.+)",
			Fields: map[string]*framework.FieldSchema{
				"name": {Type: framework.TypeString, Description: "Name of the external object."},
				"as":   {Type: framework.TypeString, Default: "error", Description: "How a standby refuses: error (ErrReadOnly), wrapped (an error wrapping it), response (an error response with its text)."},
			},
			Operations:   map[logical.Operation]framework.OperationHandler{logical.ReadOperation: &framework.PathOperation{Callback: b.external}},
			HelpSynopsis: "Stands for a call to an external system, which a performance standby must not make.",
		},
		{
			Pattern:      "crash$",
			Operations:   map[logical.Operation]framework.OperationHandler{logical.UpdateOperation: &framework.PathOperation{Callback: b.crash}},
			HelpSynopsis: "Answers, then the process exits.",
		},
		{
			Pattern:      "stdio$",
			Operations:   map[logical.Operation]framework.OperationHandler{logical.UpdateOperation: &framework.PathOperation{Callback: b.stdio}},
			HelpSynopsis: "Prints markers to stdout and stderr.",
		},
		{
			Pattern:      "helpmode$",
			Fields:       map[string]*framework.FieldSchema{"mode": {Type: framework.TypeString, Description: "How root help answers."}},
			Operations:   map[logical.Operation]framework.OperationHandler{logical.UpdateOperation: &framework.PathOperation{Callback: b.setHelpMode}},
			HelpSynopsis: "Chooses how help on the mount root answers.",
		},
	}
}

func (b *testBackend) info(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	sys := b.System()
	data := map[string]interface{}{
		"request":             wireJSON(ctx),
		"config":              b.conf.Config,
		"backend_uuid":        b.conf.BackendUUID,
		"pid":                 os.Getpid(),
		"env":                 pluginEnv(),
		"multiplex_id":        callFields(ctx, "")["multiplex_id"],
		"default_lease_ttl":   sys.DefaultLeaseTTL().Seconds(),
		"max_lease_ttl":       sys.MaxLeaseTTL().Seconds(),
		"tainted":             sys.Tainted(),
		"mlock":               sys.MlockEnabled(),
		"replication_state":   uint32(sys.ReplicationState()),
		"performance_standby": sys.ReplicationState().HasState(consts.ReplicationPerformanceStandby),
		"version":             b.opts.reportedVersion,
	}
	if env, err := sys.PluginEnv(ctx); err == nil {
		data["vault_version"] = env.VaultVersion
		data["vault_version_prerelease"] = env.VaultVersionPrerelease
		data["vault_version_metadata"] = env.VaultVersionMetadata
	}
	if id, err := sys.ClusterID(ctx); err == nil {
		data["cluster_id"] = id
	}
	return &logical.Response{Data: data}, nil
}

func (b *testBackend) kvExists(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	recordWire(ctx, req.Storage, "last/existence")
	entry, err := req.Storage.Get(ctx, req.Path)
	return entry != nil, err
}

func (b *testBackend) kvRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	entry, err := req.Storage.Get(ctx, req.Path)
	if err != nil || entry == nil {
		return nil, err
	}
	var data map[string]interface{}
	if err := json.Unmarshal(entry.Value, &data); err != nil {
		return nil, err
	}
	return &logical.Response{Data: data}, nil
}

func (b *testBackend) kvWrite(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	if err := put(ctx, req.Storage, "last/write-op", []byte(req.Operation)); err != nil {
		return nil, err
	}
	recordWire(ctx, req.Storage, "last/write")
	// Stored as the wire carried it, so the test can see numbers verbatim.
	wire, _ := wireRequest(ctx).(*pb.HandleRequestArgs)
	return nil, put(ctx, req.Storage, req.Path, []byte(wire.GetRequest().GetData()))
}

func (b *testBackend) kvDelete(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, req.Path)
}

func (b *testBackend) listStorage(prefix string) framework.OperationFunc {
	return func(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
		keys, err := req.Storage.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		return logical.ListResponse(keys), nil
	}
}

func (b *testBackend) debugRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	entry, err := req.Storage.Get(ctx, d.Get("key").(string))
	if err != nil || entry == nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{"value": string(entry.Value)}}, nil
}

func (b *testBackend) failure(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	switch d.Get("kind").(string) {
	case "user":
		return nil, errutil.UserError{Err: "bad user input"}
	case "coded":
		return nil, logical.CodedError(418, "i am a teapot")
	case "unsupported":
		return nil, logical.ErrUnsupportedPath
	case "invalid":
		return logical.ErrorResponse("bad thing"), logical.ErrInvalidRequest
	}
	return nil, errors.New("boom")
}

func (b *testBackend) password(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	password, err := b.System().GeneratePasswordFromPolicy(ctx, d.Get("policy").(string))
	if err != nil {
		st := status.Convert(err)
		return &logical.Response{Data: map[string]interface{}{"grpc_code": st.Code().String(), "grpc_message": st.Message()}}, nil
	}
	return &logical.Response{Data: map[string]interface{}{"password": password}}, nil
}

// external refuses on a performance standby before it touches the external
// system, as a plugin must (the server then forwards the request to the
// active node); on the active node it "touches" it: a journal event.
func (b *testBackend) external(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if b.onPerformanceStandby() {
		switch d.Get("as").(string) {
		case "wrapped":
			return nil, fmt.Errorf("not creating %q on a performance standby: %w", name, logical.ErrReadOnly)
		case "response":
			return logical.ErrorResponse(logical.ErrReadOnly.Error()), nil
		}
		return nil, logical.ErrReadOnly
	}
	fields := callFields(ctx, "external")
	fields["name"] = name
	b.journal.record("external", fields)
	return &logical.Response{Data: map[string]interface{}{
		"name":                name,
		"multiplex_id":        fields["multiplex_id"],
		"performance_standby": false,
	}}, nil
}

func (b *testBackend) crash(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
	b.Logger().Warn("crash requested, exiting")
	go func() {
		time.Sleep(crashDelay)
		os.Exit(3)
	}()
	return nil, nil
}

// stdio writes after go-plugin has taken over stdout and stderr, so the
// bytes travel over the GRPCStdio stream to the host.
func (b *testBackend) stdio(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
	out, _ := fmt.Fprintln(os.Stdout, "testplugin stdout marker")
	errOut, _ := fmt.Fprintln(os.Stderr, "testplugin stderr marker")
	b.journal.record("stdio", map[string]any{"stdout_bytes": out, "stderr_bytes": errOut})
	return &logical.Response{Data: map[string]interface{}{"stdout_bytes": out, "stderr_bytes": errOut}}, nil
}

func (b *testBackend) credsSecret() *framework.Secret {
	return &framework.Secret{
		Type:   "creds",
		Renew:  b.renewCreds,
		Revoke: b.revokeCreds,
	}
}

func (b *testBackend) creds(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	role := d.Get("role").(string)
	suffix := make([]byte, 3)
	rand.Read(suffix)
	user := fmt.Sprintf("u-%s-%d-%x", role, b.issued.Add(1), suffix)
	if err := put(ctx, req.Storage, "issued/"+user, []byte(role)); err != nil {
		return nil, err
	}
	resp := b.Secret("creds").Response(
		map[string]interface{}{"username": user, "password": "pw-" + user},
		map[string]interface{}{"username": user, "role": role, "fail_revoke": role == "broken"},
	)
	resp.Secret.TTL = defaultCredsTTL
	if ttl, ok := d.GetOk("ttl"); ok {
		resp.Secret.TTL = time.Duration(ttl.(int)) * time.Second
	}
	resp.Secret.IssueTime = time.Now()
	return resp, nil
}

// renewCreds echoes the secret (internal data kept) with the increment as
// its new TTL.
func (b *testBackend) renewCreds(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	recordWire(ctx, req.Storage, "last/renew")
	resp := &logical.Response{Secret: req.Secret, Data: map[string]interface{}{"renewed": true}}
	resp.Secret.TTL = req.Secret.Increment
	if resp.Secret.TTL == 0 {
		resp.Secret.TTL = defaultCredsTTL
	}
	return resp, nil
}

func (b *testBackend) revokeCreds(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	recordWire(ctx, req.Storage, "last/revoke")
	user, _ := req.Secret.InternalData["username"].(string)
	if fail, _ := req.Secret.InternalData["fail_revoke"].(bool); fail {
		failures := 0
		if raw, _ := req.Storage.Get(ctx, "revoke-failures"); raw != nil {
			failures, _ = strconv.Atoi(string(raw.Value))
		}
		put(ctx, req.Storage, "revoke-failures", []byte(strconv.Itoa(failures+1)))
		return nil, errors.New("simulated revoke failure for " + user)
	}
	if err := put(ctx, req.Storage, "revoked/"+user, []byte(time.Now().UTC().Format(time.RFC3339Nano))); err != nil {
		return nil, err
	}
	b.Logger().Info("revoked credential", "username", user)
	return nil, nil
}
