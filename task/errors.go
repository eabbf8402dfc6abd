package task

import "errors"

// ErrInput marks an error caused by a job's input rather than the cluster:
// a line too long, a document that cannot be read, that does not exist,
// that the credentials may not read, or that changed while the job ran.
// It fails the job at once, naming the document, since every worker would
// fail the same way. Test with errors.Is; it crosses gRPC as an error kind.
var ErrInput = errors.New("invalid input")

// InputError returns an error with msg as its text that wraps ErrInput:
// an input error as received from a worker, whose own wrapping is lost.
func InputError(msg string) error { return inputError(msg) }

type inputError string

func (e inputError) Error() string        { return string(e) }
func (e inputError) Is(target error) bool { return target == ErrInput }
