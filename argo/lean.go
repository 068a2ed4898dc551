package argo

import (
	"slices"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Argo CD's lists and watch events carry each Application's whole
// metadata. In a fleet applied with kubectl, its managedFields and
// annotations (kubectl's last-applied-configuration is a second copy of
// the whole Application) are three quarters of a list's bytes (2,007 apps
// on a real Argo CD v2.14.21: 2.4 of 3.5 MB), and stagedeck reads neither.
// The lean codec cuts them from the wire bytes, a copy, before the
// protobuf decode builds objects of them.
var lean = grpc.ForceCodecV2(leanCodec{protocodec.Name})

// leanCodec is the proto codec, but for the application list and watch
// event it decodes without the Applications' managedFields and
// annotations. Bytes it cannot read are decoded whole, as they came.
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
	// The list's items and the event's application are both field 2.
	if b, ok := edit((*out)[:0], raw, 2, leanApp); ok {
		data = mem.BufferSlice{mem.SliceBuffer(b)}
	}
	return base.Unmarshal(data, v)
}

// leanApp is an Application without its metadata's managedFields and
// annotations.
func leanApp(out, app []byte) ([]byte, bool) {
	return edit(out, app, 1, func(out, meta []byte) ([]byte, bool) {
		return drop(out, meta, 12, 17) // ObjectMeta: annotations, managedFields
	})
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

// edit appends msg to out with each length-delimited field num replaced by
// what f makes of its bytes; false if msg is not well-formed.
func edit(out, msg []byte, num protowire.Number, f func(out, v []byte) ([]byte, bool)) ([]byte, bool) {
	var scratch []byte
	for len(msg) > 0 {
		n, typ, v, whole, rest, ok := field(msg)
		if !ok {
			return nil, false
		}
		msg = rest
		if n != num || typ != protowire.BytesType {
			out = append(out, whole...)
			continue
		}
		b, _ := protowire.ConsumeBytes(v)
		if scratch, ok = f(scratch[:0], b); !ok {
			return nil, false
		}
		out = protowire.AppendTag(out, n, typ)
		out = protowire.AppendBytes(out, scratch)
	}
	return out, true
}

// drop appends msg to out without the fields nums; false if msg is not
// well-formed.
func drop(out, msg []byte, nums ...protowire.Number) ([]byte, bool) {
	for len(msg) > 0 {
		n, _, _, whole, rest, ok := field(msg)
		if !ok {
			return nil, false
		}
		msg = rest
		if !slices.Contains(nums, n) {
			out = append(out, whole...)
		}
	}
	return out, true
}
