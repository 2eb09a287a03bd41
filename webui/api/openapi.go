package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIJSON is the API description as JSON.
func OpenAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	return json.Marshal(doc)
}

// openAPIDoc is the description, parsed when first asked for rather than
// when the package is loaded: every start of the binary (each push's
// pre-receive hook, each CLI command) loads it.
var openAPIDoc = sync.OnceValues(OpenAPIJSON)

// openAPI serves the API description.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) error {
	doc, err := openAPIDoc()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(doc)
	return err
}
