package task

import "testing"

func TestCanRead(t *testing.T) {
	for _, tc := range []struct {
		s    Storage
		url  string
		want bool
	}{
		{Storage{S3: true}, "s3://b/k", true},
		{Storage{}, "s3://b/k", false},
		{Storage{SharedRoot: "/data"}, "file:///data/books/a.txt", true},
		{Storage{SharedRoot: "/data/"}, "file:///data/a.txt", true},
		{Storage{SharedRoot: "/data"}, "file:///database/a.txt", false},
		{Storage{SharedRoot: "/data"}, "file:///data/../etc/passwd", false},
		{Storage{SharedRoot: "/"}, "file:///etc/hosts", true},
		{Storage{SharedRoot: "/data"}, "s3://data/a.txt", false},
		{Storage{SharedRoot: "/data", S3: true}, "http://x/data/a", false},
		{Storage{SharedRoot: "/data"}, "file:///data/%zz", false},
	} {
		if got := tc.s.CanRead(tc.url); got != tc.want {
			t.Errorf("%+v reads %s: got %t, want %t", tc.s, tc.url, got, tc.want)
		}
	}
}
