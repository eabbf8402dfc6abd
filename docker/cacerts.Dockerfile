# The CA certificates the Go toolchain needs to reach the module proxy, taken
# from the host (a scratch image has none). Its build context is the host's
# certificate directory (docker-compose.yml: TALLY_CA_CERTS, default
# /etc/ssl/certs), whose ca-certificates.crt is the bundle Go reads first.
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
