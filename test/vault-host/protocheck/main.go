// Command protocheck fails when the plugin's own .proto files (proto/ at the
// repository root, from which the TypeScript code is generated) are not
// wire-compatible with the protobuf definitions the Go host is built on:
// OpenBao's SDK, go-plugin's internal services and gRPC's health service.
//
// Usage:
//
//	protocheck OURS.binpb
//
// OURS.binpb is a FileDescriptorSet of our files without their imports
// (run.sh makes it with `buf build --exclude-imports --as-file-descriptor-set`).
// The SDK side is not parsed from .proto text: it is the descriptors that the
// linked Go packages register in protoregistry.GlobalFiles, i.e. exactly what
// the host puts on the wire.
//
// Both sides are flattened to element name -> description (message, field,
// enum, enum value, service, method) and compared by name. Our elements must
// exist in the SDK with the same description; SDK elements we lack fail
// unless listed in sdkOnlyAllowed. Exit status: 0 compatible, 1 mismatches,
// 2 the check could not run.
package main

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	// Linked only for their init functions, which register the descriptors
	// that the host uses in protoregistry.GlobalFiles.
	_ "github.com/hashicorp/go-plugin" // package plugin: GRPCBroker, GRPCController, GRPCStdio
	_ "github.com/openbao/openbao/sdk/v2/helper/pluginutil"
	_ "github.com/openbao/openbao/sdk/v2/logical"
	_ "github.com/openbao/openbao/sdk/v2/plugin/pb"
	_ "google.golang.org/grpc/health/grpc_health_v1"
)

// wirePackages are the protobuf packages of the plugin protocol. Package and
// service names appear in gRPC method paths (/pb.Backend/HandleRequest), so
// ours must use exactly these, and each must exist on the SDK side.
var wirePackages = []string{"pb", "logical", "pluginutil.multiplexing", "plugin", "grpc.health.v1"}

// sdkOnlyAllowed lists SDK elements our protos deliberately leave out, each
// with the reason. Listing a message or service covers its fields or
// methods. An entry that is no longer SDK-only fails the check, so the list
// stays true. (What the plugin uses: src/vault/*.ts and src/goplugin/*.ts.)
var sdkOnlyAllowed = map[string]string{
	// OpenBao's transactional and paginated storage. The plugin calls only
	// Storage List/Get/Put/Delete without a transaction; an unset txn field
	// means "no transaction" to the host.
	"pb.Storage.ListPage":            "paginated listing, not used",
	"pb.Storage.IsTransactional":     "storage transactions, not used",
	"pb.Storage.BeginReadOnlyTx":     "storage transactions, not used",
	"pb.Storage.BeginTx":             "storage transactions, not used",
	"pb.Storage.Commit":              "storage transactions, not used",
	"pb.Storage.Rollback":            "storage transactions, not used",
	"pb.StorageListPageArgs":         "argument of Storage.ListPage",
	"pb.StorageIsTransactionalReply": "reply of Storage.IsTransactional",
	"pb.StorageBeginTxReply":         "reply of Storage.BeginTx",
	"pb.StorageCommitTxArgs":         "argument of Storage.Commit",
	"pb.StorageCommitTxReply":        "reply of Storage.Commit",
	"pb.StorageRollbackTxArgs":       "argument of Storage.Rollback",
	"pb.StorageRollbackTxReply":      "reply of Storage.Rollback",
	"pb.StorageListArgs.txn":         "transaction id, left unset",
	"pb.StorageGetArgs.txn":          "transaction id, left unset",
	"pb.StoragePutArgs.txn":          "transaction id, left unset",
	"pb.StorageDeleteArgs.txn":       "transaction id, left unset",

	// Request metadata the plugin does not read; unknown fields are skipped
	// by the decoder.
	"pb.Connection.proxied_certificates_raw": "client certificates via a proxy, not read",
	"pb.Connection.peer_certificates_raw":    "client certificates, not read",

	// Identity MFA messages: used inside OpenBao, never in the plugin protocol.
	"logical.MFAMethodID":      "not part of the plugin protocol",
	"logical.MFAConstraintAny": "not part of the plugin protocol",
	"logical.MFARequirement":   "not part of the plugin protocol",

	// gRPC health's List method: go-plugin's client only calls Check.
	"grpc.health.v1.Health.List":        "not called by go-plugin",
	"grpc.health.v1.HealthListRequest":  "argument of Health.List",
	"grpc.health.v1.HealthListResponse": "reply of Health.List",
}

// element is one named protobuf element, described by the facts that matter
// on the wire.
type element struct {
	desc  string // e.g. "field 14 string", "rpc (pb.Empty) returns (pb.TTLReply)"
	where string // source file (and line, for ours)
}

type elements map[string]element

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: protocheck OURS.binpb")
		os.Exit(2)
	}
	ours, badPackages, err := loadOurs(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "protocheck:", err)
		os.Exit(2)
	}
	failures := compare(ours, loadSDK(), badPackages)
	if len(failures) > 0 {
		fmt.Printf("FAILED: %d difference(s) between our protos and the SDK\n", len(failures))
		os.Exit(1)
	}
	fmt.Println("OK: our protos match the SDK")
}

// loadOurs flattens our files and lists those in a package the protocol does
// not have. Imports (well-known types) are not in the set, so references to
// them are resolved as placeholders, which keep their names.
func loadOurs(path string) (elements, []string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	files, err := protodesc.FileOptions{AllowUnresolvable: true}.NewFiles(&set)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	out := elements{}
	var badPackages []string
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !slices.Contains(wirePackages, string(fd.Package())) {
			badPackages = append(badPackages, fmt.Sprintf("%s: package %s is none of the SDK's %s", fd.Path(), fd.Package(), strings.Join(wirePackages, ", ")))
		}
		flattenFile(fd, true, out)
		return true
	})
	return out, badPackages, nil
}

// loadSDK flattens every registered file in the protocol's packages.
func loadSDK() elements {
	out := elements{}
	for _, pkg := range wirePackages {
		n := 0
		protoregistry.GlobalFiles.RangeFilesByPackage(protoreflect.FullName(pkg), func(fd protoreflect.FileDescriptor) bool {
			// The protobuf runtime's google/protobuf/go_features.proto is in
			// package "pb" too, but is no part of the plugin protocol.
			if strings.HasPrefix(fd.Path(), "google/protobuf/") {
				return true
			}
			n++
			flattenFile(fd, false, out)
			return true
		})
		if n == 0 {
			// A linking mistake in this program, not a protocol difference.
			fmt.Fprintf(os.Stderr, "protocheck: no linked Go package registers protobuf package %q\n", pkg)
			os.Exit(2)
		}
	}
	return out
}

// compare prints the report and returns the failures, which start with
// those already found.
func compare(ours, sdk elements, failures []string) []string {
	var allowed []string
	matched := 0
	for _, name := range sortedKeys(ours) {
		o := ours[name]
		s, ok := sdk[name]
		switch {
		case !ok && isOnlyIn(parentOf(name), ours, sdk):
			// Reported with its message or service.
		case !ok:
			failures = append(failures, fmt.Sprintf("%s: ours is %s, SDK has no such element (%s)", name, o.desc, o.where))
		case o.desc != s.desc:
			failures = append(failures, fmt.Sprintf("%s: ours is %s, SDK is %s (%s; SDK %s)", name, o.desc, s.desc, o.where, s.where))
		default:
			matched++
		}
	}
	sdkOnly := map[string]bool{}
	for _, name := range sortedKeys(sdk) {
		if _, ok := ours[name]; ok {
			continue
		}
		// Report only the outermost missing element: a missing message
		// implies its fields.
		if isOnlyIn(parentOf(name), sdk, ours) {
			continue
		}
		sdkOnly[name] = true
		if reason, ok := sdkOnlyAllowed[name]; ok {
			allowed = append(allowed, fmt.Sprintf("%s: %s (%s)", name, sdk[name].desc, reason))
		} else {
			failures = append(failures, fmt.Sprintf("%s: SDK has %s, ours lacks it (SDK %s); add it to proto/ or, if the plugin does not need it, to sdkOnlyAllowed", name, sdk[name].desc, sdk[name].where))
		}
	}
	for _, name := range sortedKeys(sdkOnlyAllowed) {
		if !sdkOnly[name] {
			failures = append(failures, fmt.Sprintf("%s: listed in sdkOnlyAllowed but not an SDK-only element any more; remove the entry", name))
		}
	}

	fmt.Printf("compared by full name: %d of our elements, %d SDK elements; %d match\n", len(ours), len(sdk), matched)
	if len(allowed) > 0 {
		fmt.Printf("SDK-only, allowed (%d):\n", len(allowed))
		for _, line := range allowed {
			fmt.Println("  " + line)
		}
	}
	for _, line := range failures {
		fmt.Println("MISMATCH " + line)
	}
	return failures
}

// isOnlyIn reports whether name is an element of a but not of b.
func isOnlyIn(name string, a, b elements) bool {
	_, inA := a[name]
	_, inB := b[name]
	return inA && !inB
}

func parentOf(name string) string {
	return name[:max(strings.LastIndex(name, "."), 0)]
}

func flattenFile(fd protoreflect.FileDescriptor, withLine bool, out elements) {
	where := func(d protoreflect.Descriptor) string {
		if withLine {
			if loc := fd.SourceLocations().ByDescriptor(d); loc.Path != nil {
				return fmt.Sprintf("%s:%d", fd.Path(), loc.StartLine+1)
			}
		}
		return fd.Path()
	}
	var messages func(protoreflect.MessageDescriptors)
	enums := func(eds protoreflect.EnumDescriptors) {
		for i := 0; i < eds.Len(); i++ {
			ed := eds.Get(i)
			out[string(ed.FullName())] = element{"enum", where(ed)}
			for j := 0; j < ed.Values().Len(); j++ {
				v := ed.Values().Get(j)
				// Enum values are scoped beside their enum in protobuf; named
				// under it here so that a report reads Enum.VALUE.
				out[string(ed.FullName())+"."+string(v.Name())] = element{fmt.Sprintf("value %d", v.Number()), where(v)}
			}
		}
	}
	messages = func(mds protoreflect.MessageDescriptors) {
		for i := 0; i < mds.Len(); i++ {
			md := mds.Get(i)
			if md.IsMapEntry() {
				continue // described by the map field itself
			}
			out[string(md.FullName())] = element{"message", where(md)}
			for j := 0; j < md.Fields().Len(); j++ {
				f := md.Fields().Get(j)
				out[string(f.FullName())] = element{describeField(f), where(f)}
			}
			enums(md.Enums())
			messages(md.Messages())
		}
	}
	enums(fd.Enums())
	messages(fd.Messages())
	for i := 0; i < fd.Services().Len(); i++ {
		sd := fd.Services().Get(i)
		out[string(sd.FullName())] = element{"service", where(sd)}
		for j := 0; j < sd.Methods().Len(); j++ {
			m := sd.Methods().Get(j)
			out[string(m.FullName())] = element{fmt.Sprintf("rpc (%s%s) returns (%s%s)",
				stream(m.IsStreamingClient()), m.Input().FullName(),
				stream(m.IsStreamingServer()), m.Output().FullName()), where(m)}
		}
	}
}

// describeField covers what decides the encoding: number, type, cardinality
// and presence. (Packed or not is left out: decoders accept both.)
func describeField(f protoreflect.FieldDescriptor) string {
	var typ string
	switch {
	case f.IsMap():
		typ = fmt.Sprintf("map<%s, %s>", typeName(f.MapKey()), typeName(f.MapValue()))
	case f.IsList():
		typ = "repeated " + typeName(f)
	case f.Cardinality() == protoreflect.Required:
		typ = "required " + typeName(f)
	case f.HasOptionalKeyword():
		typ = "optional " + typeName(f)
	default:
		typ = typeName(f)
	}
	if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
		typ += " in oneof " + string(o.Name())
	}
	return fmt.Sprintf("field %d %s", f.Number(), typ)
}

func typeName(f protoreflect.FieldDescriptor) string {
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(f.Message().FullName())
	case protoreflect.EnumKind:
		return string(f.Enum().FullName())
	default:
		return f.Kind().String()
	}
}

func stream(b bool) string {
	if b {
		return "stream "
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
