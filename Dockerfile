# The tally image: one static binary, nothing else. No base image is pulled:
# build bin/tally-static first (CGO_ENABLED=0), as scripts/up.sh does.
FROM scratch
COPY bin/tally-static /tally
# A numeric user: a scratch image has no /etc/passwd.
USER 65532:65532
# `tally health` dials $TALLY_LISTEN, which compose sets per service.
HEALTHCHECK --interval=5s --timeout=4s --start-period=5s --retries=3 CMD ["/tally", "health"]
ENTRYPOINT ["/tally"]
