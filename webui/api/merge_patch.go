package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// mergePatchType is the media type of a JSON Merge Patch (RFC 7396), the
// body every PATCH of the API takes.
const mergePatchType = "application/merge-patch+json"

// decodeMergePatch reads a PATCH body: a JSON object sent as
// application/merge-patch+json (any other type is 415, with Accept-Patch
// saying which), within the body limit.
// startPatch is startWrite for PATCH: the write, and the patch read.
func (h *Handler) startPatch(w http.ResponseWriter, r *http.Request) (write, map[string]any, error) {
	wr, err := h.startWrite(r)
	if err != nil {
		return write{}, nil, err
	}
	patch, err := h.decodeMergePatch(w, r)
	return wr, patch, err
}

func (h *Handler) decodeMergePatch(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != mergePatchType {
		return nil, httperr.New(http.StatusUnsupportedMediaType,
			"send a PATCH body as %s (a JSON Merge Patch, RFC 7396: the fields to change; null removes one); to replace the whole resource, use PUT", mergePatchType).
			With("Accept-Patch", mergePatchType)
	}
	var patch map[string]any
	if err := h.decodeJSON(w, r, &patch); err != nil {
		return nil, err
	}
	if patch == nil { // the body was "null"
		return nil, httperr.New(http.StatusBadRequest, "the body must be a JSON object")
	}
	return patch, nil
}

// mergePatch applies patch to target as RFC 7396 says: an object patches
// member by member, null removes a member, anything else replaces.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = mergePatch(t[k], v)
		}
	}
	return t
}

// applyMergePatch merges patch into cur (the editable fields of the
// resource as it is, in its JSON form) and decodes the result into out
// as strictly as a PUT body: unknown fields and wrong types are refused
// with a problem naming the field. Members the patch removed are left at
// whatever out held before: its defaults.
func applyMergePatch(cur any, patch map[string]any, out any) error {
	if err := exactNames(reflect.TypeOf(out), patch, ""); err != nil {
		return err
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return fmt.Errorf("encode current state: %w", err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("decode current state: %w", err)
	}
	merged, err := json.Marshal(mergePatch(doc, patch))
	if err != nil {
		return fmt.Errorf("encode merged state: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return jsonProblem(err, int64(len(merged)))
	}
	return nil
}

// exactNames refuses a patch member that is not exactly the JSON name of
// a field of t (encoding/json would match "Title" to "title" case-blind,
// and the merge, which is not, would keep the old value and answer 200).
func exactNames(t reflect.Type, patch map[string]any, prefix string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	fields := map[string]reflect.Type{}
	var collect func(t reflect.Type)
	collect = func(t reflect.Type) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
				continue
			case name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct:
				collect(f.Type) // promoted, as encoding/json does
				continue
			case !f.IsExported():
				continue
			case name == "":
				name = f.Name
			}
			fields[name] = f.Type
		}
	}
	collect(t)
	for k, v := range patch {
		ft, ok := fields[k]
		if !ok {
			for name := range fields {
				if strings.EqualFold(name, k) {
					return httperr.Field(http.StatusBadRequest, prefix+k, "unknown field; did you mean %q?", name)
				}
			}
			return httperr.Field(http.StatusBadRequest, prefix+k, "unknown field")
		}
		if sub, ok := v.(map[string]any); ok {
			if err := exactNames(ft, sub, prefix+k+"."); err != nil {
				return err
			}
		}
	}
	return nil
}
