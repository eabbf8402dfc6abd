package count

import (
	"testing"
)

// TestCompileValidates: Compile refuses what query.Spec.Validate refuses,
// with the same message.
func TestCompileValidates(t *testing.T) {
	for _, spec := range []Spec{
		{},
		{Count: &Query{Mode: Token, Targets: []string{"the", "a b"}}},
		{Count: &Query{Mode: Word}},
	} {
		want := spec.Validate()
		if want == nil {
			t.Fatalf("%+v: Validate accepts it", spec)
		}
		if _, err := Compile(spec); err == nil || err.Error() != want.Error() {
			t.Errorf("Compile(%+v): got %v, want %v", spec, err, want)
		}
	}
}

// TestProgramSpecIsACopy checks that a Program does not share the caller's
// slices, so it stays read-only whatever the caller does.
func TestProgramSpecIsACopy(t *testing.T) {
	targets := []string{"a", "b"}
	p := mustCompile(t, Spec{Count: &Query{Mode: Token, Targets: targets}})
	targets[0] = "zzz"
	p.Spec().Count.Targets[1] = "zzz"
	if got := p.Spec().Count.Targets; got[0] != "a" || got[1] != "b" {
		t.Fatalf("got targets %q, want [a b]", got)
	}
	if got := p.Run([]byte("a b a")).Counts; got[0] != 2 || got[1] != 1 {
		t.Fatalf("got counts %v, want [2 1]", got)
	}
}
