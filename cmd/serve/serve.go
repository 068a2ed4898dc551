// Package serve is `stagedeck serve`: the console and `status` over SSH.
package serve

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	versioncmd "github.com/stagedeck/stagedeck/cmd/version"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/serve"
)

// Options are one run's inputs.
type Options struct {
	IO    cmdutil.IOStreams
	Serve serve.Options
}

// NewCmd builds the command; runF replaces Run in tests of the flags.
func NewCmd(f *cmdutil.Factory, info versioncmd.Info, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	var idle time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:2222] [--host-key FILE] [--authorized-keys FILE]",
		Short: "Serve the console to your team over SSH (nothing to install for them)",
		Long: "Serve the board over SSH: `ssh -p 2222 host` opens a console at the client's size,\n" +
			"`ssh -p 2222 host status [-o json]` prints the status for scripts. All sessions share one\n" +
			"board feed. Only keys in --authorized-keys may connect; everyone is read-only unless the\n" +
			"config's operators section names their key, and an operator syncs and rolls back under\n" +
			"their own name on their stages (protected ones still ask for the name). Listens on\n" +
			"loopback unless --listen says otherwise; no shell, no forwarding. --demo serves the sandbox.",
		Example: "  stagedeck serve --demo            # then: ssh -p 2222 localhost\n" +
			"  stagedeck serve --listen 0.0.0.0:2222 --authorized-keys /etc/stagedeck/authorized_keys",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Serve.Flags = *f.Flags
			opts.Serve.Info = info
			opts.Serve.IdleTimeout = idle
			opts.Serve.Log = f.IO.ErrOut
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Serve.Listen, "listen", serve.DefaultListen, "address to listen on (loopback unless you say otherwise)")
	cmd.Flags().StringVar(&opts.Serve.HostKeyPath, "host-key", "", "SSH host key, made once if missing (default $XDG_CONFIG_HOME/stagedeck/ssh_host_ed25519)")
	cmd.Flags().StringVar(&opts.Serve.AuthorizedKeys, "authorized-keys", "", "authorized_keys file: the only keys that may connect (required unless --demo)")
	cmd.Flags().DurationVar(&idle, "idle-timeout", 0, "end consoles idle this long (default the config's serve.idleTimeout, 15m)")
	cmd.Flags().IntVar(&opts.Serve.MaxSessionsPerKey, "max-sessions-per-key", 0, "sessions one key may hold at once (default the config's, 4)")
	return cmd
}

// Run serves until the process is told to stop.
func Run(ctx context.Context, opts *Options) error {
	cmdutil.LeanHeap()
	return cmdutil.WithCode(cmdutil.ExitUsage, serve.Run(ctx, opts.Serve))
}
