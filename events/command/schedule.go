package command

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
)

// SchedulerEmail is who publishes scheduled posts, in the log.
const SchedulerEmail = "scheduler"

// Trailers of a scheduled publication: who scheduled the post, and how
// late it was published when it was (after downtime).
const (
	TrailerScheduledBy = "Chronicle-Scheduled-By"
	TrailerLate        = "Chronicle-Late"
)

// Due syncs the index with main and returns the scheduled posts whose
// time has come at now, earliest first, and the time of the next one
// after now (zero if none).
func (w *Writer) Due(now time.Time) (ids []string, next time.Time, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.sync(); err != nil {
		return nil, time.Time{}, err
	}
	for id, p := range w.idx.posts {
		switch {
		case p.due.IsZero():
		case !p.due.After(now):
			ids = append(ids, id)
		case next.IsZero() || p.due.Before(next):
			next = p.due
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := w.idx.posts[ids[i]].due, w.idx.posts[ids[j]].due
		return a.Before(b) || (a.Equal(b) && ids[i] < ids[j])
	})
	return ids, next, nil
}

// Scheduled lists the scheduled posts' ids by their time, earliest first.
func (w *Writer) Scheduled() ([]string, error) {
	ids, _, err := w.Due(time.Unix(1<<62, 0))
	return ids, err
}

// PublishScheduled publishes post id if it is scheduled and due at now:
// one commit, post.published, made by the scheduler and naming who
// scheduled the post (the actor of the commit that last changed its
// file) and, when it is published more than a second after its time,
// how late. Nothing happens (an empty Written) if the post is no longer
// scheduled or not due.
func (w *Writer) PublishScheduled(ctx context.Context, id string, now time.Time) (Written, error) {
	return w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		e, ok := w.idx.posts[id]
		if !ok || e.due.IsZero() || e.due.After(now) {
			return nil, nil
		}
		cur, err := w.current(head, id, "")
		if err != nil {
			return nil, err
		}
		p := *cur
		p.Status = content.Published
		data, err := content.MarshalPost(&p)
		if err != nil {
			return nil, err
		}
		by := e.scheduledBy
		if by == "" {
			// Scheduled before this process started: git tells who last
			// changed the file (a walk back from the head, once).
			by = "unknown"
			if hist, err := w.log.Repo().History(head, e.path, 1); err != nil {
				return nil, fmt.Errorf("who scheduled post %s: %w", id, err)
			} else if len(hist) == 1 {
				if actor, _, _, err := w.deriver.Who(hist[0]); err == nil {
					by = actor
				}
			}
		}
		b := w.batch(Actor{Name: "Scheduler", Email: SchedulerEmail}, "post/"+id, string(events.PostPublished), "Publish scheduled post "+quote(p.Title),
			repo.Change{Path: e.path, Data: data})
		b.Message += fmt.Sprintf("%s: %s\n", TrailerScheduledBy, by)
		if late := now.Sub(e.due); late > time.Second {
			b.Message += fmt.Sprintf("%s: %s\n", TrailerLate, late.Round(time.Second))
		}
		return b, nil
	})
}

// RunScheduler publishes scheduled posts at their time until ctx ends:
// it sleeps until the next one is due, and looks again at least every
// poll (a write or a push may have scheduled one meanwhile). Posts whose
// time passed while the daemon was down are published on its first look.
func (w *Writer) RunScheduler(ctx context.Context, poll time.Duration, log *slog.Logger) {
	for {
		now := w.now()
		ids, next, err := w.Due(now)
		if err != nil {
			log.Error("scheduler: read the scheduled posts", "err", err)
		}
		for _, id := range ids {
			if _, err := w.PublishScheduled(ctx, id, w.now()); err != nil && ctx.Err() == nil {
				log.Error("scheduler: publish", "post", id, "err", err)
			}
		}
		sleep := poll
		if !next.IsZero() && next.Sub(w.now()) < sleep {
			sleep = max(next.Sub(w.now()), 0)
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		t.Stop()
	}
}

// headActor is who made the head commit (its pusher, if pushed) when it
// is the only commit since the index's last sync, else "": who made a
// change among several commits is not known without walking them.
// Callers hold mu, before the index moves to head.
func (w *Writer) headActor(head repo.Hash) (string, error) {
	if w.idx.actorOf == head {
		return w.idx.actor, nil
	}
	c, err := w.log.Repo().ReadCommit(head)
	if err != nil {
		return "", fmt.Errorf("read commit %s: %w", short(head), err)
	}
	actor := ""
	if len(c.Parents) > 0 && c.Parents[0] == w.idx.head && !w.idx.head.IsZero() {
		if actor, _, _, err = w.deriver.Who(c); err != nil {
			return "", err
		}
	}
	w.idx.actorOf, w.idx.actor = head, actor
	return actor, nil
}
