// Package daemon is Chronicle's composition root: the command line, the
// configuration, and the order in which components start and stop.
package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// errHookRefused ends a hook that already said why on stderr.
var errHookRefused = errors.New("push refused")

// Main runs the command line and returns the process exit code.
func Main(args []string, version string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := Command(version, stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		if !errors.Is(err, errHookRefused) {
			fmt.Fprintln(stderr, "chronicle:", err)
		}
		return 1
	}
	return 0
}

// Command builds the command tree.
func Command(version string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var cfg Config
	root := &cobra.Command{
		Use:           "chronicle",
		Short:         "A content daemon where every edit is a git commit and an event",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags())
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cfg.bindCommon(root.PersistentFlags())

	serve := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: API, projections, embedded NATS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := Serve(ctx, cfg, log, nil); err != nil {
				log.Error("daemon stopped", "err", err)
				return err
			}
			log.Info("stopped")
			return nil
		},
	}
	cfg.bindServe(serve.Flags())

	user := &cobra.Command{Use: "user", Short: "Manage accounts"}
	cfg.bindSharedState(user.PersistentFlags())
	var email, name, role string
	var fromStdin, reset bool
	add := &cobra.Command{
		Use:   "add",
		Short: "Add an account, or with --reset replace its password and role (works while the daemon runs; a reset ends its API tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !fromStdin {
				return errors.New("give the password on standard input with --password-stdin (never on the command line)")
			}
			pw, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read password: %w", err)
			}
			pw = strings.TrimRight(pw, "\r\n")
			store, closeStore, err := openAccounts(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			old, existed := store.Get(email)
			a, err := store.Add(email, name, auth.Role(role), pw, reset)
			if err != nil {
				return err
			}
			if existed == nil {
				recordCLI(cfg, stderr, seclog.Event{Type: seclog.PasswordChanged, Account: a.Email, Detail: "reset"})
				if old.Role != a.Role {
					recordCLI(cfg, stderr, seclog.Event{Type: seclog.RoleChanged, Account: a.Email, Detail: string(old.Role) + " → " + string(a.Role)})
				}
			} else {
				recordCLI(cfg, stderr, seclog.Event{Type: seclog.AccountCreated, Account: a.Email, Detail: string(a.Role)})
			}
			fmt.Fprintf(stdout, "account %s (%s) saved\n", a.Email, a.Role)
			return nil
		},
	}
	add.Flags().StringVar(&email, "email", "", "email address to sign in with (required)")
	add.Flags().StringVar(&name, "name", "", "display name")
	add.Flags().StringVar(&role, "role", "editor", auth.RoleList())
	add.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input")
	add.Flags().BoolVar(&reset, "reset", false, "replace an existing account's password and role")
	add.MarkFlagRequired("email")
	var roleEmail, newRole string
	setRole := &cobra.Command{
		Use:     "role",
		Aliases: []string{"set-role"},
		Short:   "Change an account's role; its API tokens stop working at once (works while the daemon runs)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, closeStore, err := openAccounts(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			old, _ := store.Get(roleEmail)
			a, err := store.SetRole(roleEmail, auth.Role(newRole))
			if err != nil {
				return err
			}
			recordCLI(cfg, stderr, seclog.Event{Type: seclog.RoleChanged, Account: a.Email, Detail: string(old.Role) + " → " + string(a.Role)})
			fmt.Fprintf(stdout, "account %s is now %s\n", a.Email, a.Role)
			return nil
		},
	}
	setRole.Flags().StringVar(&roleEmail, "email", "", "the account (required)")
	setRole.Flags().StringVar(&newRole, "role", "", auth.RoleList()+" (required)")
	setRole.MarkFlagRequired("email")
	setRole.MarkFlagRequired("role")
	var rmEmail string
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Remove an account and its personal access tokens; nothing it signed in with works any more",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, closeStore, err := openAccounts(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			if err := store.Remove(rmEmail); err != nil {
				return fmt.Errorf("%s: %w", auth.NormalizeEmail(rmEmail), err)
			}
			recordCLI(cfg, stderr, seclog.Event{Type: seclog.AccountRemoved, Account: auth.NormalizeEmail(rmEmail)})
			fmt.Fprintf(stdout, "account %s removed\n", auth.NormalizeEmail(rmEmail))
			return nil
		},
	}
	remove.Flags().StringVar(&rmEmail, "email", "", "the account (required)")
	remove.MarkFlagRequired("email")
	userList := &cobra.Command{
		Use:   "list",
		Short: "List the accounts: email, role, whether disabled, how they sign in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, closeStore, err := openAccounts(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			all, err := store.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tROLE\tSTATE\tNAME\tCREATED")
			for _, a := range all {
				state := "active"
				if a.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Email, a.Role, state, a.Name, a.CreatedAt.Format("2006-01-02"))
			}
			return tw.Flush()
		},
	}
	user.AddCommand(add, setRole, remove, userList, disableCommand(&cfg, stdout, stderr, true), disableCommand(&cfg, stdout, stderr, false))

	rebuild := &cobra.Command{
		Use:   "rebuild [catalogue|pages|search|media|history|audit]",
		Short: "Rebuild projections (all, or the one named) from the git history alone; stop the daemon first",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			log, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			return rebuildProjection(cmd.Context(), cfg, name, log, stderr)
		},
	}
	versionCmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(stdout, "chronicle", version) },
	}
	var probeAddr string
	probe := &cobra.Command{
		Use:   "probe",
		Short: "Exit 0 if the daemon at --addr is ready (for container health checks)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := &http.Client{Timeout: 3 * time.Second}
			resp, err := c.Get("http://" + probeAddr + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("not ready: %s", resp.Status)
			}
			return nil
		},
	}
	probe.Flags().StringVar(&probeAddr, "addr", "127.0.0.1:8080", "address the daemon listens on")
	hook := &cobra.Command{
		Use:    "hook pre-receive",
		Short:  "Run by the repository's git hooks during a push",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runHook(args[0], stdin, stderr); err != nil {
				cmd.SilenceErrors = true
				return errHookRefused
			}
			return nil
		},
	}

	token := &cobra.Command{Use: "token", Short: "Manage personal access tokens (for git over HTTP and scripts)"}
	cfg.bindSharedState(token.PersistentFlags())
	var tokEmail, tokName, tokID string
	var dropOld bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Make a token; it is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, closeStore, err := openAccounts(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			t, secret, err := store.CreateToken(tokEmail, tokName)
			if errors.Is(err, auth.ErrNoAccount) {
				return fmt.Errorf("%w: %s has no account in %s yet: make it first with `chronicle --data %s user add --email %s --role editor --password-stdin`",
					err, auth.NormalizeEmail(tokEmail), cfg.DataDir, cfg.DataDir, auth.NormalizeEmail(tokEmail))
			}
			if err != nil {
				return err
			}
			recordCLI(cfg, stderr, seclog.Event{Type: seclog.TokenCreated, Account: auth.NormalizeEmail(tokEmail), Detail: t.ID + " " + t.Name})
			fmt.Fprintf(stderr, "token %s for %s (shown once; use it as the password for git, or as \"Authorization: Bearer <token>\" for the API):\n", t.ID, auth.NormalizeEmail(tokEmail))
			fmt.Fprintln(stdout, secret)
			return nil
		},
	}
	create.Flags().StringVar(&tokEmail, "email", "", "the account (required)")
	create.Flags().StringVar(&tokName, "name", "", "what the token is for")
	create.MarkFlagRequired("email")
	revoke := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke a token; it is refused at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, closeStore, err := openAccounts(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			if err := store.RevokeToken(tokEmail, tokID); err != nil {
				return err
			}
			recordCLI(cfg, stderr, seclog.Event{Type: seclog.TokenRevoked, Account: auth.NormalizeEmail(tokEmail), Detail: tokID})
			return nil
		},
	}
	revoke.Flags().StringVar(&tokEmail, "email", "", "the account (required)")
	revoke.Flags().StringVar(&tokID, "id", "", "the token's id (required)")
	revoke.MarkFlagRequired("email")
	revoke.MarkFlagRequired("id")
	list := &cobra.Command{
		Use:   "list",
		Short: "List an account's tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, closeStore, err := openAccounts(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			ts, err := store.Tokens(tokEmail)
			if err != nil {
				return err
			}
			for _, t := range ts {
				fmt.Fprintf(stdout, "%s  %s  %s\n", t.ID, t.CreatedAt.Format(time.RFC3339), t.Name)
			}
			return nil
		},
	}
	list.Flags().StringVar(&tokEmail, "email", "", "the account (required)")
	list.MarkFlagRequired("email")
	rotate := &cobra.Command{
		Use:   "rotate-key",
		Short: "Sign API tokens with a new key from now on; tokens signed by the old one stay good until they expire (or, with --drop-old, are refused at once)",
		Long: "Sign API tokens with a new key from now on. Tokens signed by the keys it replaces stay good until they expire, unless --drop-old.\n" +
			"With --nats-url the key set every node shares is rotated; without, the keys in --data, which the daemon running on that data directory\n" +
			"reads at its next token (run it as the daemon's user).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kid, err := rotateKey(cmd.Context(), cfg, auth.Rotation{DropOld: dropOld})
			if err != nil {
				return err
			}
			detail := kid
			if dropOld {
				detail += " (the old keys dropped)"
			}
			recordCLI(cfg, stderr, seclog.Event{Type: seclog.KeyRotated, Detail: detail})
			fmt.Fprintf(stdout, "API tokens are signed with key %s from now on\n", kid)
			return nil
		},
	}
	rotate.Flags().DurationVar(&cfg.TokenTTL, "token-ttl", time.Hour, "lifetime of API tokens, as the daemons have it: keys retired longer ago are dropped")
	rotate.Flags().BoolVar(&dropOld, "drop-old", false, "drop every other key: tokens they signed are refused at once (a key that leaked)")
	token.AddCommand(create, revoke, list, rotate)
	root.AddCommand(serve, user, token, rebuild, versionCmd, probe, hook)
	return root
}

func rebuildProjection(ctx context.Context, cfg Config, name string, log *slog.Logger, progress io.Writer) error {
	// Never under a running daemon: both would write the projections.
	unlock, err := lockDataDir(cfg.DataDir, "rebuild")
	if err != nil {
		return err
	}
	defer unlock()
	r, err := repo.Open(cfg.repoDir(), log)
	if err != nil {
		return err
	}
	defer r.Close()
	l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, log, pictures(cfg)))
	head, err := l.Head()
	if err != nil {
		return err
	}
	rs, err := openReadSide(cfg, log, nil)
	if err != nil {
		return err
	}
	defer rs.close()
	ps, err := rs.named(name)
	if err != nil {
		return err
	}
	if n := r.LooseObjects(); n > 1000 {
		// Reading a packed history is faster, and the repository needs it anyway.
		fmt.Fprintf(progress, "repacking %d loose objects first\n", n)
		if err := r.Repack(ctx, false); err != nil {
			return err
		}
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name())
	}
	start := time.Now()
	bar := newProgressBar(progress, strings.Join(names, "+"), head.Height)
	err = projections.Rebuild(ctx, ps, l, bar.update)
	bar.done()
	if err != nil {
		return err
	}
	// The pictures' AVIF variants are made after the rest of their set:
	// a rebuild ends with every set whole.
	if err := rs.media.Drain(ctx); err != nil {
		return err
	}
	fmt.Fprintf(progress, "%s rebuilt from %d commits in %s\n", strings.Join(names, ", "), head.Height, time.Since(start).Round(time.Millisecond))
	return nil
}

// progressBar draws "name [=====>    ] 42% (n events)" on one line.
type progressBar struct {
	w       io.Writer
	name    string
	commits int64
	last    time.Time
}

func newProgressBar(w io.Writer, name string, commits int64) *progressBar {
	return &progressBar{w: w, name: name, commits: max(commits, 1)}
}

func (p *progressBar) update(n int, at events.Cursor) {
	if time.Since(p.last) < 100*time.Millisecond && at.Height < p.commits {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := int(int64(width) * at.Height / p.commits)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% (%d events, commit %d of %d)", p.name,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*at.Height/p.commits, n, at.Height, p.commits)
}

func (p *progressBar) done() { fmt.Fprintln(p.w) }

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

// disableCommand is `user disable` (or `user enable`): its sessions, API
// tokens and personal access tokens stop working at once, even while
// the daemon runs; the last enabled admin is kept.
func disableCommand(cfg *Config, stdout, stderr io.Writer, disable bool) *cobra.Command {
	var email string
	use, short, typ, done := "enable", "Enable a disabled account again", seclog.AccountEnabled, "enabled"
	if disable {
		use, short, typ, done = "disable", "Disable an account: nothing signs in as it, its sessions and tokens stop at once (works while the daemon runs)",
			seclog.AccountDisabled, "disabled"
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, closeStore, err := openAccounts(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			a, err := store.SetDisabled(email, disable, auth.Guard{KeepAdmin: true})
			if err != nil {
				return fmt.Errorf("%s: %w", auth.NormalizeEmail(email), err)
			}
			recordCLI(*cfg, stderr, seclog.Event{Type: typ, Account: a.Email})
			fmt.Fprintf(stdout, "account %s %s\n", a.Email, done)
			return nil
		},
	}
	c.Flags().StringVar(&email, "email", "", "the account (required)")
	c.MarkFlagRequired("email")
	return c
}
