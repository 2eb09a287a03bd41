package githttp

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Mount routes git's smart HTTP endpoints on r, the root router, and the
// Git LFS API when cfg.Media is set. LFS requests are signed in before
// their handler runs, so that over the sign-in limit they answer 429.
func Mount(r *mux.Router, cfg Config) {
	h := &Handler{cfg: cfg, log: cfg.Logger, creds: gitCreds{ok: map[[32]byte]time.Time{}},
		git: httperr.Adapter{Log: cfg.Logger, Render: writeGitError},
		lfs: httperr.Adapter{Log: cfg.Logger, Render: writeLFSError}}
	r.Handle("/git/site.git/info/refs", h.git.Handle(h.gitHTTP)).Methods(http.MethodGet)
	r.Handle("/git/site.git/{service:git-upload-pack|git-receive-pack}", h.git.Handle(h.gitHTTP)).Methods(http.MethodPost)
	if cfg.Media != nil {
		r.Handle("/git/site.git/info/lfs/objects/batch", h.lfs.Handle(h.signedIn(h.lfsBatch))).Methods(http.MethodPost)
		r.Handle("/git/site.git/info/lfs/objects/{oid:[0-9a-f]{64}}", h.lfs.Handle(h.signedIn(h.lfsObjectGet))).Methods(http.MethodGet)
		r.Handle("/git/site.git/info/lfs/objects/{oid:[0-9a-f]{64}}", h.lfs.Handle(h.signedIn(h.lfsObjectPut, policy.UploadMedia))).Methods(http.MethodPut)
	}
}
