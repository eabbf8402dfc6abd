# A Go toolchain image made from the host's Go installation, for machines
# that cannot pull golang:1.26. Its build context is GOROOT
# (docker-compose.yml: ${GOROOT:-/usr/local/go}); BASE holds the CA
# certificates (docker/cacerts.Dockerfile). No shell: the Dockerfiles that
# build FROM this image use exec-form RUN.
ARG BASE=tally-cacerts:latest
FROM ${BASE}
COPY . /usr/local/go/
ENV PATH=/usr/local/go/bin GOROOT=/usr/local/go
# go build needs a temporary directory, and a scratch image has no /tmp.
WORKDIR /tmp
WORKDIR /
RUN ["go", "version"]
