package serve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/ssh"
	"github.com/spf13/cobra"

	statuscmd "github.com/stagedeck/stagedeck/cmd/status"
	versioncmd "github.com/stagedeck/stagedeck/cmd/version"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/session"
)

// command runs a one-line command for scripts (`ssh host status -o json`)
// on the shared session and returns its exit code. Only status and version
// exist here: no shell, nothing that changes anything.
func (s *Server) command(sess ssh.Session, argv []string) int {
	errOut := sanitize.NewWriter(sess.Stderr())
	switch argv[0] {
	case "status", "version", "help", "--help", "-h":
	default:
		fmt.Fprintf(errOut, "stagedeck: unknown command %q: over SSH, run status or version (or connect with ssh -t for the console)\n", argv[0])
		return cmdutil.ExitUsage
	}
	f := &cmdutil.Factory{
		IO:    cmdutil.IOStreams{In: strings.NewReader(""), Out: sess, ErrOut: errOut},
		Flags: &session.Flags{},
		Now:   time.Now,
	}
	f.Open = func(ctx context.Context, fetch bool) (*session.Session, error) {
		ss, err := s.shared.Session(ctx)
		if err != nil {
			code := cmdutil.ExitUsage
			if session.IsUnreachable(err) {
				code = cmdutil.ExitUnreachable
			}
			return nil, cmdutil.WithCode(code, err)
		}
		if fetch {
			// One fetch for every session asking at about the same time.
			if err := s.shared.Feed.Fetch(ctx); err != nil {
				return nil, cmdutil.WithCode(cmdutil.ExitUnreachable, err)
			}
		}
		return ss.Borrow(), nil
	}
	root := &cobra.Command{
		Use:           "stagedeck",
		Short:         "stagedeck over SSH: the console (ssh -t), or status for scripts",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.WithCode(cmdutil.ExitUsage, fmt.Errorf("unknown command %q: over SSH, run status or version (or connect with ssh -t for the console)", args[0]))
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error { return errors.New("no command") },
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.WithCode(cmdutil.ExitUsage, err) })
	root.AddCommand(statuscmd.NewCmd(f, nil), versioncmd.NewCmd(f, s.opts.Info))
	root.SetArgs(argv)
	root.SetIn(strings.NewReader(""))
	root.SetOut(sess)
	root.SetErr(errOut)
	return cmdutil.Report(errOut, root.ExecuteContext(sess.Context()))
}
