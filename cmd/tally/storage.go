package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/source/file"
	"github.com/tallyhq/tally/source/s3"
	"github.com/tallyhq/tally/task"
)

// storeFlags say how a process reads stored documents: S3, with the
// endpoint and credentials of the AWS environment (AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), which the flags
// may override; credentials come only from the environment, never from a
// command line.
type storeFlags struct {
	endpoint, region      string
	pathStyle, skipVerify bool
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "s3-endpoint", "", "S3 endpoint URL, e.g. http://127.0.0.1:9000 (default: $AWS_ENDPOINT_URL, else AWS); credentials come from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY")
	fs.StringVar(&f.region, "s3-region", "", "S3 region (default: $AWS_REGION, else us-east-1)")
	fs.BoolVar(&f.pathStyle, "s3-path-style", false, "path-style S3 addressing (http://HOST/BUCKET/KEY), which S3-compatible servers such as versitygw and MinIO need")
	fs.BoolVar(&f.skipVerify, "s3-skip-verify", false, "do not verify the S3 endpoint's TLS certificate (testing only: anyone on the path could read and forge the text)")
}

// s3Store returns the S3 store that the flags and the environment
// configure, or nil when no credentials are set.
func (f *storeFlags) s3Store() (*s3.Store, error) {
	cfg := s3.ConfigFromEnv(os.Getenv)
	if f.endpoint != "" {
		cfg.Endpoint = f.endpoint
	}
	if f.region != "" {
		cfg.Region = f.region
	}
	cfg.PathStyle, cfg.SkipVerify = f.pathStyle, f.skipVerify
	if !cfg.Configured() {
		if f.endpoint != "" {
			return nil, usagef("--s3-endpoint is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not")
		}
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, usagef("S3: %v", err)
	}
	st, err := s3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("S3: %w", err)
	}
	return st, nil
}

// stores returns the stores a process reads, and what that lets it read:
// files under root when root is set (a shared volume), and S3 when
// configured. closeAll releases them.
func (f *storeFlags) stores(root string) (source.Mux, task.Storage, func(), error) {
	mux, storage := source.Mux{}, task.Storage{}
	closeAll := func() {}
	if root != "" {
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, storage, nil, usagef("shared root %q: %v", root, err)
		}
		v, err := file.Open(abs)
		if err != nil {
			return nil, storage, nil, usagef("shared root: %v", err)
		}
		mux["file"], storage.SharedRoot, closeAll = v, abs, func() { v.Close() }
	}
	st, err := f.s3Store()
	if err != nil {
		closeAll()
		return nil, storage, nil, err
	}
	if st != nil {
		mux["s3"], storage.S3 = st, true
	}
	return mux, storage, closeAll, nil
}
