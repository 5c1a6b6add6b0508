// Package tap is a minimal TAP 13 producer with the API the OCI runtime
// validation suite expects from "github.com/mndrix/tap-go" (which Debian does
// not package). run.sh copies this file into a private GOPATH under that
// import path; it is our own implementation, written against the TAP 13
// format, not a copy of that library.
package tap

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// T writes one TAP stream. A TODO view shares the counter of its parent.
type T struct {
	n    *int
	todo bool
	w    io.Writer
}

// New returns a producer writing to stdout.
func New() *T { return &T{n: new(int), w: os.Stdout} }

// Header prints the version line and, when the plan is known, the plan.
func (t *T) Header(plan int) {
	fmt.Fprintln(t.w, "TAP version 13")
	if plan > 0 {
		fmt.Fprintf(t.w, "1..%d\n", plan)
	}
}

// Ok records one test point.
func (t *T) Ok(test bool, description string) {
	*t.n++
	status := "ok"
	if !test {
		status = "not ok"
	}
	directive := ""
	if t.todo {
		directive = " # TODO"
	}
	fmt.Fprintf(t.w, "%s %d - %s%s\n", status, *t.n, description, directive)
}

// Pass records a passing test point.
func (t *T) Pass(description string) { t.Ok(true, description) }

// Fail records a failing test point.
func (t *T) Fail(description string) { t.Ok(false, description) }

// Skip records count skipped test points.
func (t *T) Skip(count int, description string) {
	for i := 0; i < count; i++ {
		*t.n++
		fmt.Fprintf(t.w, "ok %d # skip %s\n", *t.n, description)
	}
}

// Todo returns a view whose points carry the TODO directive.
func (t *T) Todo() *T { return &T{n: t.n, todo: true, w: t.w} }

// Count returns the number of test points so far.
func (t *T) Count() int { return *t.n }

// AutoPlan prints the plan for the points written so far.
func (t *T) AutoPlan() { fmt.Fprintf(t.w, "1..%d\n", *t.n) }

// Diagnostic prints a comment line per line of message.
func (t *T) Diagnostic(message string) {
	for _, line := range strings.Split(message, "\n") {
		fmt.Fprintf(t.w, "# %s\n", line)
	}
}

// Diagnosticf is Diagnostic with formatting.
func (t *T) Diagnosticf(format string, a ...interface{}) {
	t.Diagnostic(fmt.Sprintf(format, a...))
}

// YAML prints a YAML block; JSON is valid YAML, so encode as JSON.
func (t *T) YAML(message interface{}) error {
	b, err := json.MarshalIndent(message, "  ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(t.w, "  ---\n  %s\n  ...\n", b)
	return nil
}
