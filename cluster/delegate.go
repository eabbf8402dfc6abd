package cluster

import (
	"io"
	"log"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/memberlist"
)

// metaDelegate is memberlist's Delegate: it hands out this node's encoded Meta
// whenever memberlist broadcasts that the node is alive. memberlist calls it
// from several goroutines; it never blocks.
type metaDelegate struct {
	mu   sync.Mutex // guards meta
	meta []byte     // replaced, never modified: memberlist keeps what it was given
}

func (d *metaDelegate) set(meta []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.meta = meta
}

// NodeMeta returns the encoded Meta; encodeMeta has already checked its size.
func (d *metaDelegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.meta
}

// NotifyMsg ignores user messages: tally sends none.
func (d *metaDelegate) NotifyMsg([]byte) {}

// GetBroadcasts has nothing to broadcast.
func (d *metaDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState has no state to share beyond membership.
func (d *metaDelegate) LocalState(join bool) []byte { return nil }

// MergeRemoteState ignores the (empty) remote state.
func (d *metaDelegate) MergeRemoteState(buf []byte, join bool) {}

// view is memberlist's EventDelegate: it keeps this node's own copy of the
// members and signals changes.
//
// The copy is why Members does not read memberlist's Members(): that returns
// pointers into memberlist's table, whose Addr, Port and Meta are rewritten in
// place when an alive message arrives, so reading them races (memberlist issues
// #250, #306). memberlist calls these callbacks while it holds its node lock, the
// one place those fields can be read safely, and never concurrently. They must
// not block: they copy under a short lock and send without waiting.
type view struct {
	mu      sync.Mutex // guards members
	members map[string]Member

	changes chan struct{} // buffered 1: one pending signal stands for any number of changes
}

func newView() *view {
	return &view{members: make(map[string]Member), changes: make(chan struct{}, 1)}
}

// NotifyJoin records a node that joined (this node included, on Start).
func (v *view) NotifyJoin(n *memberlist.Node) { v.put(n) }

// NotifyUpdate records a node's new metadata or address.
func (v *view) NotifyUpdate(n *memberlist.Node) { v.put(n) }

// NotifyLeave forgets a node that left or was declared dead.
func (v *view) NotifyLeave(n *memberlist.Node) {
	v.mu.Lock()
	delete(v.members, n.Name)
	v.mu.Unlock()
	v.signal()
}

func (v *view) put(n *memberlist.Node) {
	m := Member{Name: n.Name, Addr: n.Address(), Meta: decodeMeta(n.Meta), State: StateAlive}
	v.mu.Lock()
	v.members[m.Name] = m
	v.mu.Unlock()
	v.signal()
}

func (v *view) signal() {
	select {
	case v.changes <- struct{}{}:
	default: // a signal is already pending
	}
}

// list returns the members sorted by name.
func (v *view) list() []Member {
	v.mu.Lock()
	out := make([]Member, 0, len(v.members))
	for _, m := range v.members {
		out = append(out, m)
	}
	v.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// stdLogger adapts l for memberlist, which logs through a *log.Logger. Each
// line goes to l at debug level, with memberlist's own level ("[WARN]") kept as
// an attribute.
func stdLogger(l *slog.Logger) *log.Logger {
	if l == nil {
		return log.New(io.Discard, "", 0)
	}
	return log.New(logWriter{l}, "", 0)
}

type logWriter struct{ l *slog.Logger }

// Write logs one line; log.Logger calls it once per line, serialized.
func (w logWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level := ""
	if rest, ok := strings.CutPrefix(line, "["); ok {
		if lv, msg, ok := strings.Cut(rest, "] "); ok {
			level, line = lv, msg
		}
	}
	line = strings.TrimPrefix(line, "memberlist: ")
	w.l.Debug(line, "component", "memberlist", "memberlist_level", level)
	return len(p), nil
}
