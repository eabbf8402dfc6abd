# The S3 service of docker-compose.yml: versitygw (pinned in
# scripts/versitygw.mod) as one static binary in a scratch image, built from
# source like the tally image (see Dockerfile for GO_IMAGE).
ARG GO_IMAGE=tally-go:latest

FROM ${GO_IMAGE} AS build
ENV CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" \
	GOPATH=/build/gopath GOCACHE=/build/gocache TMPDIR=/build/tmp
WORKDIR /build/tmp
# The pinned module file as a module of its own: nothing of tally's source is
# copied, so only a change to versitygw.mod rebuilds this image.
WORKDIR /src
COPY scripts/versitygw.mod go.mod
COPY scripts/versitygw.sum go.sum
RUN ["go", "build", "-ldflags=-s -w", "-o", "/out/versitygw", "github.com/versity/versitygw/cmd/versitygw"]
# An empty directory for the image's /data (scratch has no mkdir).
WORKDIR /out/data
# See Dockerfile: lets a test remove what it built.
ARG TALLY_BUILD_ID=none
LABEL org.tallyhq.build-id=$TALLY_BUILD_ID

FROM scratch
COPY --from=build /out/versitygw /versitygw
# A named volume starts as a copy of this directory: writable by the user below.
COPY --from=build --chown=65532:65532 /out/data/ /data/
USER 65532:65532
ENTRYPOINT ["/versitygw"]
