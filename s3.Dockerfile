# The S3 service of docker-compose.yml: versitygw (pinned in
# scripts/versitygw.mod) as one static binary, nothing else. No base image
# is pulled: scripts/up.sh builds bin/versitygw-static (CGO_ENABLED=0) and an
# empty data directory into a build context of its own.
FROM scratch
COPY versitygw-static /versitygw
# A named volume starts as a copy of this directory: writable by the user below.
COPY --chown=65532:65532 data/ /data/
USER 65532:65532
ENTRYPOINT ["/versitygw"]
