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

// AsInput marks err as an input error: errors.Is(AsInput(err), ErrInput),
// with err's text, and err itself still found by errors.Is and errors.As.
func AsInput(err error) error { return asInput{err} }

type asInput struct{ error }

func (e asInput) Unwrap() error        { return e.error }
func (e asInput) Is(target error) bool { return target == ErrInput }

// ErrMemory marks a task that a worker refused because it would take more
// memory than the worker allows itself (a matcher too large for its
// --max-matcher-memory, a frequency table beyond its budget). It fails the
// job at once, naming the limit, instead of trying the task on every
// worker in turn: a worker that crashed or was killed trying would take the
// cluster down one worker at a time. It crosses gRPC as an error kind.
var ErrMemory = errors.New("over a memory limit")

// MemoryError returns an error with msg as its text that wraps ErrMemory:
// a memory refusal as received from a worker.
func MemoryError(msg string) error { return memoryError(msg) }

type memoryError string

func (e memoryError) Error() string        { return string(e) }
func (e memoryError) Is(target error) bool { return target == ErrMemory }
