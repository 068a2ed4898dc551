package argo

import (
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Argo CD's lists and watch events carry each Application whole, and the
// board reads a dozen of its fields. In a fleet applied with kubectl the
// metadata alone is three quarters of a list's bytes (managedFields, and
// kubectl's last-applied-configuration: a second copy of the whole
// Application; 2.4 of 3.5 MB for 2,007 apps on a real Argo CD v2.14.21),
// and a real app's status lists every resource it manages. The lean codec
// cuts each Application to the fields fromApplication reads, in a copy of
// the wire bytes, before the protobuf decode builds objects of them.
var lean = grpc.ForceCodecV2(leanCodec{protocodec.Name})

// leanCodec is the proto codec, but for the application list and watch
// event it decodes each Application cut to appShape. Bytes it cannot read
// are decoded whole, as they came.
type leanCodec struct{ base string }

// Name is empty so that the call keeps the content-type application/grpc:
// a codec's name becomes its subtype ("application/grpc+proto"), and Argo
// CD's server, which tells gRPC from HTTP by that header, drops the
// connection.
func (leanCodec) Name() string { return "" }

func (c leanCodec) Marshal(v any) (mem.BufferSlice, error) {
	return encoding.GetCodecV2(c.base).Marshal(v)
}

func (c leanCodec) Unmarshal(data mem.BufferSlice, v any) error {
	base := encoding.GetCodecV2(c.base)
	switch v.(type) {
	case *v1alpha1.ApplicationList, *v1alpha1.ApplicationWatchEvent:
	default:
		return base.Unmarshal(data, v)
	}
	// Both buffers come from gRPC's pool and go back to it: the decode
	// copies what it keeps.
	pool := mem.DefaultBufferPool()
	in := data.MaterializeToBuffer(pool)
	defer in.Free()
	raw := in.ReadOnlyData()
	out := pool.Get(len(raw)) // the cut is never longer
	defer pool.Put(out)
	// The list's items and the event's application are both field 2; the
	// rest (the list's metadata, the event's type) is kept.
	b, ok := cut((*out)[:0], raw, listShape)
	if !ok {
		return base.Unmarshal(data, v)
	}
	if l, ok := v.(*v1alpha1.ApplicationList); ok {
		// The decode appends each item: sized up front, 2,000 Applications
		// (a kilobyte each) are not copied over and over as it grows.
		*l = v1alpha1.ApplicationList{Items: make([]v1alpha1.Application, 0, count(b, 2))}
		return l.Unmarshal(b)
	}
	return base.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, v)
}

// count is how many times field num occurs in msg, a message cut made.
func count(msg []byte, num protowire.Number) int {
	n := 0
	for len(msg) > 0 {
		f, _, _, _, rest, ok := field(msg)
		if !ok {
			break
		}
		if f == num {
			n++
		}
		msg = rest
	}
	return n
}

// shape is the fields of a message that are kept: a field whose shape is
// nil whole, one with a shape cut to it (an empty shape keeps the field,
// empty, for its presence), and every other field dropped.
type shape map[protowire.Number]shape

var (
	// sourceShape is what is read of an ApplicationSource: repoURL, path,
	// targetRevision, chart and ref, and the files its options name (helm's
	// valueFiles and fileParameters' paths, kustomize's patches' paths and
	// components).
	sourceShape = shape{1: nil, 2: nil, 4: nil, 12: nil, 13: nil, // chart, ref
		7: {1: nil, 5: {2: nil}},   // helm
		8: {12: {1: nil}, 13: nil}, // kustomize
	}
	// appShape is what fromApplication reads of an Application (the field
	// numbers are argo-cd's generated.proto; lean_test.go checks that
	// fromApplication sees the same app either way).
	appShape = shape{
		1: {1: nil, 3: nil, 6: nil}, // metadata: name, namespace, resourceVersion
		2: { // spec
			1: sourceShape, 3: nil, // source, project
			4: {1: nil},            // syncPolicy: automated
			8: sourceShape, 9: nil, // sources, sourceHydrator (it decides the sources)
		},
		3: { // status
			2:  {1: nil, 3: nil, 4: nil},                  // sync: status, revision, revisions
			3:  {1: nil},                                  // health: status
			4:  {2: nil, 4: nil, 5: nil, 9: nil, 10: nil}, // history: revision, deployedAt, id, revisions, initiatedBy
			5:  {1: nil, 2: nil},                          // conditions: type, message
			10: {2: nil},                                  // summary: images
			7: { // operationState
				1: {1: {3: nil}, 3: nil},       // operation: sync's dryRun, info
				2: nil, 3: nil, 6: nil, 7: nil, // phase, message, startedAt, finishedAt
				4: { // syncResult
					1: {3: nil, 4: nil, 5: nil, 6: nil, 7: nil, 9: nil}, // resources: kind, namespace, name, status, message, hookPhase
					2: nil, 5: nil,                                      // revision, revisions
				},
			},
		},
		4: {}, // operation: only whether one is requested
	}
	// listShape is an ApplicationList's or ApplicationWatchEvent's: field 2
	// is the items or the application, field 1 the list's metadata or the
	// event's type.
	listShape = shape{1: nil, 2: appShape}
)

// cut appends msg to out cut to s; false if msg is not well-formed, or a
// field s shapes is not a message.
func cut(out, msg []byte, s shape) ([]byte, bool) {
	for len(msg) > 0 {
		n, typ, v, whole, rest, ok := field(msg)
		if !ok {
			return nil, false
		}
		msg = rest
		sub, keep := s[n]
		switch {
		case !keep:
		case sub == nil:
			out = append(out, whole...)
		case typ != protowire.BytesType:
			return nil, false
		default:
			b, _ := protowire.ConsumeBytes(v)
			// The cut is written after its length: reserve the longest
			// length's room, then move the cut down if its length is shorter.
			out = protowire.AppendTag(out, n, typ)
			at := len(out)
			out = append(out, make([]byte, protowire.SizeVarint(uint64(len(b))))...)
			body := len(out)
			if out, ok = cut(out, b, sub); !ok {
				return nil, false
			}
			size := len(out) - body
			lw := protowire.SizeVarint(uint64(size))
			protowire.AppendVarint(out[at:at], uint64(size))
			if gap := body - at - lw; gap > 0 {
				copy(out[at+lw:], out[body:])
				out = out[:len(out)-gap]
			}
		}
	}
	return out, true
}

// field splits msg's first field off: its number and type, its value's
// bytes, the whole field (tag included) and the rest; false if msg is not
// well-formed.
func field(msg []byte) (n protowire.Number, typ protowire.Type, v, whole, rest []byte, ok bool) {
	n, typ, tl := protowire.ConsumeTag(msg)
	if tl < 0 {
		return 0, 0, nil, nil, nil, false
	}
	vl := protowire.ConsumeFieldValue(n, typ, msg[tl:])
	if vl < 0 {
		return 0, 0, nil, nil, nil, false
	}
	return n, typ, msg[tl : tl+vl], msg[:tl+vl], msg[tl+vl:], true
}
