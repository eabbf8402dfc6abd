package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// StartTimeout bounds how long Start waits for the server to answer.
const StartTimeout = 20 * time.Second

// startAttempts is how many ports Start tries: another process can take the
// free port it picked before versitygw listens on it.
const startAttempts = 5

// Server is a versitygw process serving Dir on 127.0.0.1. Each top-level
// folder of Dir is a bucket.
type Server struct {
	// Endpoint is the server's URL, "http://127.0.0.1:PORT".
	Endpoint string
	// AccessKey and SecretKey are the root user's credentials, random for
	// each server.
	AccessKey, SecretKey string
	// Dir is the directory served.
	Dir string

	client *minio.Client // puts and removes objects for the helpers
	proc   *process
}

// process is one run of versitygw.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and its output is logged
	once   sync.Once     // kills it once
}

// stop kills the process and waits for it and its output.
func (p *process) stop() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
}

// Start runs versitygw serving dir until the test ends, and returns once it
// answers S3 requests. Its output goes to tb.Log.
func Start(tb testing.TB, dir string) *Server {
	tb.Helper()
	bin := Binary(tb)
	abs, err := filepath.Abs(dir)
	if err == nil {
		_, err = os.Stat(abs) // else versitygw exits, each attempt
	}
	if err != nil {
		tb.Fatalf("start versitygw: %v", err)
	}
	s := &Server{AccessKey: "tally" + randomHex(tb, 8), SecretKey: randomHex(tb, 20), Dir: abs}
	for attempt := 1; ; attempt++ {
		err := s.start(tb, bin)
		if err == nil {
			return s
		}
		if attempt == startAttempts {
			tb.Fatalf("start versitygw: %v", err)
		}
		tb.Logf("start versitygw (attempt %d): %v; trying another port", attempt, err)
	}
}

// start runs the server once on a port that was free a moment ago.
func (s *Server) start(tb testing.TB, bin string) error {
	tb.Helper()
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s.Endpoint = "http://" + addr
	// Without --keep-alive, as deployed: versitygw then closes each
	// connection after one response.
	cmd := exec.Command(bin, "--port", addr, "posix", s.Dir)
	cmd.Env = append(cleanEnv(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	logs := &logWriter{tb: tb}
	cmd.Stdout, cmd.Stderr = logs, logs
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	s.proc = p
	go func() {
		// Wait also waits for the output to be copied, so no line reaches
		// logs after exited is closed.
		cmd.Wait()
		logs.flush()
		close(p.exited)
	}()
	s.client, err = minio.New(addr, &minio.Options{
		Creds:      credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:     "us-east-1",
		MaxRetries: 1, // ready polls; its own retries would hide the deadline
	})
	if err == nil {
		err = s.waitReady()
	}
	if err != nil {
		p.stop()
		return err
	}
	tb.Cleanup(p.stop)
	return nil
}

// waitReady polls until the server answers a signed request, it exits, or
// StartTimeout passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(StartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := s.client.ListBuckets(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.proc.exited:
			return fmt.Errorf("versitygw exited: %v", s.proc.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not answer within %v: %w", StartTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit, for tests of a store
// that cannot be reached. It is safe to call more than once.
func (s *Server) Stop() { s.proc.stop() }

// MustBucket creates the bucket name, a folder of Dir.
func (s *Server) MustBucket(tb testing.TB, name string) {
	tb.Helper()
	if err := os.Mkdir(filepath.Join(s.Dir, name), 0o755); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
}

// MustPut stores data as bucket/key through the S3 API, so that the object
// has an ETag (the MD5 of data).
func (s *Server) MustPut(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// An unsigned payload, rather than minio-go's default over http, a
	// streamed ("aws-chunked") body that is never empty: versitygw answers
	// the PUT of a folder marker ("dir/") and closes the connection without
	// reading that body, and the client, still writing it, failed.
	opts := minio.PutObjectOptions{DisableContentSha256: true}
	if _, err := s.client.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), opts); err != nil {
		tb.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// MustWriteFile writes data as bucket/key straight into the directory,
// behind the server's back, so the object has no ETag. It replaces any file
// there rather than rewriting it, since versitygw keeps an object's ETag in
// extended attributes of its file and would go on serving a rewritten
// file with the ETag of its old content.
func (s *Server) MustWriteFile(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	p := s.Path(bucket, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".s3test-*")
	if err != nil {
		tb.Fatal(err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		tb.Fatalf("write %s/%s: %v", bucket, key, err)
	}
}

// MustRemove deletes bucket/key through the S3 API.
func (s *Server) MustRemove(tb testing.TB, bucket, key string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.client.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		tb.Fatalf("remove %s/%s: %v", bucket, key, err)
	}
}

// Path is the file that holds bucket/key, to change it behind the
// server's back (its modification time, say).
func (s *Server) Path(bucket, key string) string {
	return filepath.Join(s.Dir, bucket, filepath.FromSlash(key))
}

// freeAddr is a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), nil
}

// cleanEnv is the environment without the variables that configure
// versitygw, so that a developer's settings cannot change the test server.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VGW_") && !strings.HasPrefix(kv, "ROOT_") {
			env = append(env, kv)
		}
	}
	return env
}

func randomHex(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// logWriter passes the server's output to tb.Log a line at a time. The
// server is stopped, and its output drained, in a cleanup, so it never
// logs after the test has ended.
type logWriter struct {
	tb  testing.TB
	mu  sync.Mutex // guards buf, which holds a partial line
	buf []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.tb.Log("versitygw: " + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// flush logs a last line that had no newline.
func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.tb.Log("versitygw: " + string(w.buf))
		w.buf = nil
	}
}
