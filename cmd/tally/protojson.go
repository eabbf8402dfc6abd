package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The admin commands' --json prints the API's messages in the JSON style of
// count and top: the proto's field names (snake_case), 64-bit numbers as
// JSON numbers (protobuf JSON writes them as strings), enum values as their
// lower-case name without the enum's prefix (JOB_STATE_RUNNING is
// "running"), timestamps as RFC 3339 strings, durations in seconds. A
// message or oneof that is not set is left out; scalars are always written.

// writeMessage writes m as one line of JSON.
func writeMessage(w io.Writer, m proto.Message) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(messageJSON(m.ProtoReflect()))
}

func messageJSON(m protoreflect.Message) any {
	switch m.Descriptor().FullName() {
	case "google.protobuf.Timestamp":
		f := m.Descriptor().Fields()
		t := time.Unix(m.Get(f.ByName("seconds")).Int(), m.Get(f.ByName("nanos")).Int()).UTC()
		return t.Format(time.RFC3339Nano)
	case "google.protobuf.Duration":
		f := m.Descriptor().Fields()
		return float64(m.Get(f.ByName("seconds")).Int()) + float64(m.Get(f.ByName("nanos")).Int())/1e9
	}
	out := map[string]any{}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if (fd.Message() != nil && !fd.IsList() && !fd.IsMap() || fd.ContainingOneof() != nil || fd.HasPresence()) && !m.Has(fd) {
			continue
		}
		out[string(fd.Name())] = fieldJSON(fd, m.Get(fd))
	}
	return out
}

func fieldJSON(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsList():
		l := v.List()
		items := make([]any, l.Len())
		for i := range l.Len() {
			items[i] = valueJSON(fd, l.Get(i))
		}
		return items
	case fd.IsMap():
		out := map[string]any{}
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			out[k.String()] = valueJSON(fd.MapValue(), mv)
			return true
		})
		return out
	}
	return valueJSON(fd, v)
}

func valueJSON(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageJSON(v.Message())
	case protoreflect.EnumKind:
		return enumName(fd.Enum(), v.Enum())
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	}
	return v.Interface() // bool, string, ints and floats: numbers stay numbers
}

// enumName is "running" for JOB_STATE_RUNNING of enum JobState: the value's
// name without the enum's UPPER_SNAKE prefix, lower-cased.
func enumName(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) string {
	vd := ed.Values().ByNumber(n)
	if vd == nil {
		return strconv.Itoa(int(n)) // a value this build does not know
	}
	var prefix strings.Builder
	for i, r := range string(ed.Name()) {
		if i > 0 && r >= 'A' && r <= 'Z' {
			prefix.WriteByte('_')
		}
		prefix.WriteRune(r)
	}
	name := strings.TrimPrefix(string(vd.Name()), strings.ToUpper(prefix.String())+"_")
	return strings.ToLower(name)
}
