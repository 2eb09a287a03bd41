package command

import (
	"context"

	"github.com/chronicle-cms/chronicle/repo"
)

// checkPushAll runs checkPush as ValidatePush does, without a deadline.
func checkPushAll(idx *index, lfsDir string, commits []repo.PushedCommit, req PushRequest, base func(string) ([]byte, bool, error)) []string {
	objects := newLFSObjects(lfsDir, req.Image)
	if err := objects.prefetch(context.Background(), commits, nil); err != nil {
		panic(err)
	}
	msgs, err := checkPush(context.Background(), idx, objects, commits, req, base)
	if err != nil {
		panic(err)
	}
	return msgs
}
