"""Generated protobuf and gRPC stubs of tally.v1 (scripts/gen-python.sh); do not edit."""
