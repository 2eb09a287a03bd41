package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/session"
)

// State a second node needs (DESIGN 12): with --nats-url, accounts and
// their tokens live in a JetStream key-value bucket every node shares;
// without, in files in the data directory.

// bindSharedState is --nats-url for the commands that change shared
// state beside the daemon: given, they change the cluster's bucket.
func (c *Config) bindSharedState(fs *pflag.FlagSet) {
	fs.StringVar(&c.NatsURL, "nats-url", "", "the NATS the site's nodes share accounts on (default: the data directory's files)")
}

// sharedAccounts opens the accounts bucket of js. On the first start of
// a shared store (the bucket holds no account) it copies this node's
// account files into it, once, and says so.
func sharedAccounts(ctx context.Context, cfg Config, js jetstream.JetStream, log *slog.Logger) (*auth.Store, error) {
	s, err := auth.NewKVStore(ctx, js, cfg.PasswordHash, cfg.NatsReplicas)
	if err != nil {
		return nil, err
	}
	have, err := s.List()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.accountsDir()); len(have) > 0 || err != nil {
		return s, nil
	}
	n, err := s.Import(auth.NewStore(cfg.accountsDir(), cfg.PasswordHash))
	if err != nil {
		return nil, fmt.Errorf("copy the account files to NATS: %w", err)
	}
	if n > 0 {
		log.Info("accounts copied from the data directory's files to the shared NATS bucket, once; the files are not read any more",
			"accounts", n, "bucket", auth.AccountsBucket, "from", cfg.accountsDir())
	}
	return s, nil
}

// openAccounts is the accounts store for a command run beside the
// daemon (`chronicle user …`, `token …`): the shared bucket with
// --nats-url, else the data directory's files. close ends its connection.
func openAccounts(ctx context.Context, cfg Config) (s *auth.Store, close func(), err error) {
	if cfg.NatsURL == "" {
		return auth.NewStore(cfg.accountsDir(), auth.Argon2Params{}), func() {}, nil
	}
	nc, err := nats.Connect(cfg.NatsURL, nats.Name("chronicle-cli"))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", cfg.NatsURL, err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		s, err = sharedAccounts(ctx, cfg, js, slog.New(slog.DiscardHandler))
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return s, nc.Close, nil
}

// openSessions is the admin's session store: the shared bucket with
// --nats-url (a session made on one node is good on every other), else
// a bbolt file in the data directory. close closes it.
func openSessions(ctx context.Context, cfg Config, js jetstream.JetStream) (s scs.Store, close func() error, err error) {
	if cfg.NatsURL != "" {
		kv, err := session.OpenKV(ctx, js, session.DefaultLifetime, cfg.NatsReplicas)
		return kv, func() error { return nil }, err
	}
	if err := auth.PrivateDir(filepath.Dir(cfg.sessionsFile())); err != nil {
		return nil, nil, err
	}
	b, err := session.OpenBolt(cfg.sessionsFile(), time.Hour)
	if err != nil {
		return nil, nil, err
	}
	return b, b.Close, nil
}

// rotateKey makes a new API token signing key: in the shared key set
// with --nats-url, else in the data directory's key files, where the
// daemon running on it sees the change at its next token (auth.fileKeys).
func rotateKey(ctx context.Context, cfg Config, how auth.Rotation) (string, error) {
	if cfg.NatsURL == "" {
		// Never a new key made in the wrong place: the daemon would not
		// read it.
		if _, err := os.Stat(cfg.tokenKeyFile()); err != nil {
			return "", fmt.Errorf("no token key in %s (is --data the daemon's data directory?): %w", cfg.DataDir, err)
		}
		tokens, err := auth.LoadTokens(cfg.tokenKeyFile(), cfg.TokenTTL)
		if err != nil {
			return "", err
		}
		return tokens.RotateKey(ctx, how)
	}
	nc, err := nats.Connect(cfg.NatsURL, nats.Name("chronicle-cli"))
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", cfg.NatsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	tokens, err := auth.NewKVTokens(ctx, js, cfg.tokenKeyFile(), cfg.TokenTTL, cfg.NatsReplicas)
	if err != nil {
		return "", err
	}
	return tokens.RotateKey(ctx, how)
}
