// Package count is tally's counting kernel: it turns a Spec (count targets in
// one mode, or build a token frequency table) into a Program and runs it over
// text, producing a Partial that merges associatively with the Partials of the
// document's other chunks.
//
// It exists so that every answer has one definition, shared by the worker, the
// coordinator and the one-process CLI: the Python expressions in SPEC.md. The
// package is pure: no I/O, goroutines, logging or context. Text is arbitrary
// bytes; each byte that is not valid UTF-8 is one character that is neither
// whitespace nor a word character, as Python's "surrogateescape" reads it.
package count
