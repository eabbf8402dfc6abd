package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Server is the versitygw process that serves the soak's S3 documents.
type s3Server struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	addr    string
	client  *minio.Client
	key     string
	dataDir string
}

// startS3 runs versitygw (the binary at bin) on a free loopback port,
// serving dir/s3, and sets the AWS_* variables that every process the soak
// starts inherits, so that coordinator, workers and clients read it.
func startS3(ctx context.Context, bin, dir string) (*s3Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	var b [16]byte
	rand.Read(b[:])
	key, secret := "soak"+hex.EncodeToString(b[:4]), hex.EncodeToString(b[4:])
	data := filepath.Join(dir, "s3")
	if err := os.MkdirAll(filepath.Join(data, "soak"), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, err
	}
	s := &s3Server{cmd: exec.Command(bin, "--port", addr, "posix", data), exited: make(chan struct{}), addr: addr, key: key, dataDir: data}
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+key, "ROOT_SECRET_KEY="+secret)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	go func() { s.cmd.Wait(); logf.Close(); close(s.exited) }()
	if s.client, err = minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(key, secret, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath}); err != nil {
		s.stop()
		return nil, err
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err = s.client.ListBuckets(ctx); err == nil {
			break
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("versitygw exited: see versitygw.log")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("versitygw did not answer within 20s: %w", err)
		}
	}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
		"AWS_ENDPOINT_URL": "http://" + addr, "AWS_REGION": "us-east-1", "TALLY_S3_PATH_STYLE": "true"} {
		os.Setenv(k, v)
	}
	return s, nil
}

// put stores data as the soak bucket's key: through the S3 API (with an
// ETag: read in splits) when tagged, else written behind the server's back
// (no ETag: read whole).
func (s *s3Server) put(ctx context.Context, key string, data []byte, tagged bool) error {
	if !tagged {
		return os.WriteFile(filepath.Join(s.dataDir, "soak", key), data, 0o644)
	}
	_, err := s.client.PutObject(ctx, "soak", key, strings.NewReader(string(data)), int64(len(data)), minio.PutObjectOptions{})
	return err
}

func (s *s3Server) stop() {
	if s == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
}
