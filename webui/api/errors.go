package api

import (
	"errors"
	"net/http"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// domainError is how the writer's errors read to an API client (the
// adapter's Map): a refusal by the policy is 403, a validation error is 422 naming the fields, a conflict
// 409 naming its field, a stale version 412, a missing subject 404; nil
// for any other error.
func domainError(err error) *httperr.Error {
	var ve *content.ValidationError
	var ce *command.ConflictError
	var pe *policy.Refusal
	switch {
	case errors.As(err, &pe):
		if pe.Field != "" {
			return httperr.Field(http.StatusForbidden, pe.Field, "%s", pe.Reason)
		}
		return httperr.New(http.StatusForbidden, "%s", pe.Reason)
	case errors.As(err, &ve):
		e := httperr.New(http.StatusUnprocessableEntity, "%s", ve.Error())
		for _, f := range ve.Errors {
			e.Errors = append(e.Errors, httperr.FieldError{Field: f.Field, Line: f.Line, Detail: f.Detail})
		}
		return e
	case errors.As(err, &ce):
		return httperr.Field(http.StatusConflict, ce.Field, "%s", ce.Detail)
	case errors.Is(err, command.ErrStale):
		return httperr.New(http.StatusPreconditionFailed, "%s: fetch it again, reapply your change and send the new ETag in If-Match", command.ErrStale)
	case errors.Is(err, command.ErrNeedsVersion):
		return httperr.New(http.StatusPreconditionRequired, "%s: send the ETag you got from GET in If-Match", command.ErrNeedsVersion)
	case errors.Is(err, command.ErrNothingToRestore):
		return httperr.New(http.StatusConflict, "%s", err)
	case errors.Is(err, command.ErrNotFound):
		return httperr.New(http.StatusNotFound, "%s", err)
	}
	return nil
}
