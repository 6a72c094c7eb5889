package main

// The journal: one JSON line per event, appended to the file named by
// TESTPLUGIN_JOURNAL (shared by every process of the test plugin), so that
// the host's self-tests can check what a plugin process received and in
// which order: its launch environment, every gRPC call on its main
// connection (with the multiplex id and the remaining deadline), stream
// starts and ends, what Setup found in its configuration, what Initialize
// found, and the external-system calls of external/<name>.

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"time"

	"github.com/openbao/openbao/sdk/v2/helper/pluginutil"
	"github.com/openbao/openbao/sdk/v2/plugin/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// envJournal names the journal file; without it nothing is recorded.
const envJournal = "TESTPLUGIN_JOURNAL"

type journal struct {
	mu   sync.Mutex
	file *os.File
}

// openJournal opens the journal for appending, or returns a journal that
// records nothing.
func openJournal() *journal {
	path := os.Getenv(envJournal)
	if path == "" {
		return &journal{}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return &journal{}
	}
	return &journal{file: f}
}

// record writes one event with the time and pid added. Each line goes out
// in one append-mode write, so lines of concurrent processes do not mix.
func (j *journal) record(event string, fields map[string]any) {
	if j.file == nil {
		return
	}
	line := map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "pid": os.Getpid(), "event": event}
	for k, v := range fields {
		line[k] = v
	}
	buf, err := json.Marshal(line)
	if err != nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.file.Write(append(buf, '\n'))
}

// callFields describes an incoming call: its multiplex id and the seconds
// left until its deadline (nil when it has none).
func callFields(ctx context.Context, method string) map[string]any {
	fields := map[string]any{"method": method, "multiplex_id": "", "deadline_s": nil}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if ids := md.Get(pluginutil.MultiplexingCtxKey); len(ids) > 0 {
			fields["multiplex_id"] = ids[0]
		}
	}
	if deadline, ok := ctx.Deadline(); ok {
		fields["deadline_s"] = time.Until(deadline).Seconds()
	}
	return fields
}

// wireRequestKey carries the raw gRPC request of a call to the handlers, so
// they can show the request exactly as it came over the wire.
type wireRequestKey struct{}

func wireRequest(ctx context.Context) any { return ctx.Value(wireRequestKey{}) }

func (j *journal) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	fields := callFields(ctx, info.FullMethod)
	switch args := req.(type) {
	case *pb.HandleRequestArgs:
		fields["operation"] = args.GetRequest().GetOperation()
		fields["path"] = args.GetRequest().GetPath()
	case *pb.InvalidateKeyArgs:
		fields["key"] = args.GetKey()
	}
	j.record("rpc", fields)
	return handler(context.WithValue(ctx, wireRequestKey{}, req), req)
}

func (j *journal) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	fields := callFields(ss.Context(), info.FullMethod)
	j.record("stream", fields)
	started := time.Now()
	err := handler(srv, ss)
	j.record("stream-end", map[string]any{"method": info.FullMethod, "open_s": time.Since(started).Seconds()})
	return err
}
