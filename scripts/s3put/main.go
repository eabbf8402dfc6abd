// Command s3put uploads files to an S3 bucket through the S3 API, so that
// each object gets an ETag (which tally needs to read an object in splits),
// for benchmarks and demos. Credentials and endpoint come from the AWS
// environment, as tally's do (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY), with path-style addressing.
//
//	go run ./scripts/s3put -bucket NAME [-prefix P/] FILE...
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func main() {
	bucket := flag.String("bucket", "", "bucket to put the files in (made if missing)")
	prefix := flag.String("prefix", "", "key prefix, e.g. books/")
	flag.Parse()
	if err := put(context.Background(), *bucket, *prefix, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "s3put:", err)
		os.Exit(1)
	}
}

func put(ctx context.Context, bucket, prefix string, files []string) error {
	if bucket == "" || len(files) == 0 {
		return fmt.Errorf("usage: s3put -bucket NAME [-prefix P/] FILE...")
	}
	u, err := url.Parse(os.Getenv("AWS_ENDPOINT_URL"))
	if err != nil || u.Host == "" {
		return fmt.Errorf("AWS_ENDPOINT_URL %q is not a URL", os.Getenv("AWS_ENDPOINT_URL"))
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
		Secure: u.Scheme == "https", Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return err
	}
	if ok, err := c.BucketExists(ctx, bucket); err != nil {
		return err
	} else if !ok {
		if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			return err
		}
	}
	for _, f := range files {
		info, err := c.FPutObject(ctx, bucket, prefix+filepath.Base(f), f, minio.PutObjectOptions{})
		if err != nil {
			return fmt.Errorf("put %s: %w", f, err)
		}
		fmt.Printf("s3://%s/%s %d bytes, ETag %s\n", bucket, info.Key, info.Size, info.ETag)
	}
	return nil
}
