package client_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/query"
)

// TestTypedErrors: what the coordinator or the connection answers comes back
// as a *client.Error that errors.Is matches against its kind, and that
// status.Code still reads.
func TestTypedErrors(t *testing.T) {
	addr, stop := startCoordinator()
	defer stop()
	c, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err = c.GetJob(ctx, "no-such-job")
	check(t, "GetJob of an unknown id", err, client.ErrNotFound, codes.NotFound)
	_, err = c.CancelJob(ctx, "no-such-job")
	check(t, "CancelJob of an unknown id", err, client.ErrNotFound, codes.NotFound)
	_, err = c.CountTexts(ctx, []string{"a b"}, query.Count{Mode: query.Token, Targets: []string{"a b"}}, false)
	check(t, "a token target with a space", err, client.ErrInvalidArgument, codes.InvalidArgument)

	done, stopNow := context.WithCancel(ctx)
	stopNow()
	_, err = c.CountTexts(done, []string{"a"}, query.Count{Mode: query.Token, Targets: []string{"a"}}, false)
	check(t, "a cancelled call", err, client.ErrCanceled, codes.Canceled)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := lis.Addr().String()
	lis.Close()
	d, err := client.Dial(gone)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.Workers(ctx)
	check(t, "nothing listening", err, client.ErrUnavailable, codes.Unavailable)
	_, err = d.Run(ctx, client.Job{}, nil)
	check(t, "Run with nothing listening", err, client.ErrUnavailable, codes.Unavailable)
}

func check(t *testing.T, what string, err, want error, code codes.Code) {
	t.Helper()
	var e *client.Error
	if !errors.Is(err, want) || !errors.As(err, &e) || e.Code != code || status.Code(err) != code {
		t.Errorf("%s: got %v (%T), want an *client.Error of code %v matching %v", what, err, err, code, want)
	}
	for _, other := range []error{client.ErrNotFound, client.ErrInvalidArgument, client.ErrCanceled, client.ErrUnavailable} {
		if other != want && errors.Is(err, other) {
			t.Errorf("%s: %v also matches %v", what, err, other)
		}
	}
}
