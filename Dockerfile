# The tally image: one static binary in a scratch image, built from source.
#   docker-compose up -d --build      (builds the Go toolchain image first: see docker/)
# GO_IMAGE is any image with a Go toolchain (>= go.mod's version) on PATH and
# CA certificates: by default tally-go, which docker-compose.yml makes from
# the host's Go installation because no image can be pulled here; where a
# registry is reachable, --build-arg GO_IMAGE=golang:1.26 works the same.
# Every RUN is exec-form: tally-go has no shell.
ARG GO_IMAGE=tally-go:latest

FROM ${GO_IMAGE} AS build
# A static binary (no libc in a scratch image), with no host paths or VCS
# state in it; the caches live inside the build stage.
ENV CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" \
	GOPATH=/build/gopath GOCACHE=/build/gocache TMPDIR=/build/tmp
WORKDIR /build/tmp
WORKDIR /src
# The modules first, so that a change to the source does not fetch them again.
COPY go.mod go.sum ./
RUN ["go", "mod", "download"]
COPY . .
RUN ["go", "build", "-ldflags=-s -w", "-o", "/out/tally", "./cmd/tally"]
RUN ["go", "build", "-ldflags=-s -w", "-o", "/out/gencerts", "./scripts/gencerts"]
# Marks this stage's last image, so that a test can remove what it built
# (scripts/compose-fresh.sh); the layers above stay shared build cache.
ARG TALLY_BUILD_ID=none
LABEL org.tallyhq.build-id=$TALLY_BUILD_ID

# docker-compose.yml's one-shot certs service: makes certs/ when it is missing.
FROM scratch AS gencerts
COPY --from=build /out/gencerts /gencerts
ENTRYPOINT ["/gencerts"]

FROM scratch
COPY --from=build /out/tally /tally
# A numeric user: a scratch image has no /etc/passwd.
USER 65532:65532
# `tally health` dials $TALLY_LISTEN, which compose sets per service.
HEALTHCHECK --interval=5s --timeout=4s --start-period=5s --retries=3 CMD ["/tally", "health"]
ENTRYPOINT ["/tally"]
