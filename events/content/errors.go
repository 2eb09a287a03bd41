package content

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one field of a file or request.
type FieldError struct {
	Field  string `json:"field"`
	Line   int    `json:"line,omitempty"`
	Detail string `json:"detail"`
}

// ValidationError lists everything wrong with one file or request.
type ValidationError struct {
	File   string
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, f := range e.Errors {
		if i > 0 {
			b.WriteString("\n")
		}
		if e.File != "" {
			b.WriteString(e.File)
			if f.Line > 0 {
				fmt.Fprintf(&b, ":%d", f.Line)
			}
			b.WriteString(": ")
		}
		if f.Field != "" {
			b.WriteString(f.Field + ": ")
		}
		b.WriteString(f.Detail)
	}
	return b.String()
}

type FieldErrors []FieldError

func (fe *FieldErrors) Add(field string, line int, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Line: line, Detail: fmt.Sprintf(format, args...)})
}

func (fe FieldErrors) Err(file string) error {
	if len(fe) == 0 {
		return nil
	}
	return &ValidationError{File: file, Errors: fe}
}
