package daemon

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chronicle-cms/chronicle/webui/api"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// checkResponse validates an API exchange against the OpenAPI document:
// every response the tests see must be one the document describes.
func checkResponse(t testing.TB, req *http.Request, reqBody []byte, resp response) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return
	}
	specOnce.Do(func() {
		b, err := api.OpenAPIJSON()
		if err != nil {
			specErr = err
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			specErr = err
			return
		}
		doc.Servers = openapi3.Servers{{URL: "http://localhost/api/v1"}}
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	if specErr != nil {
		t.Fatalf("load OpenAPI document: %v", specErr)
	}
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	r.URL.Host, r.Host = "localhost", "localhost" // the test server's port is not part of the contract
	route, params, err := specRouter.FindRoute(r)
	if err != nil {
		if resp.status == 404 || resp.status == 405 {
			return
		}
		t.Fatalf("%s %s is not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.status, Header: resp.header,
		Body: io.NopCloser(bytes.NewReader(resp.body)), Options: &openapi3filter.Options{IncludeResponseStatus: false}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d does not match the OpenAPI document: %v\n%s", req.Method, req.URL.Path, resp.status, err, resp.body)
	}
}
