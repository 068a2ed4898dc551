package argo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient"
	accountpkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/account"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	settingspkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/settings"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	argoconfig "github.com/argoproj/argo-cd/v2/util/config"
	"github.com/argoproj/argo-cd/v2/util/localconfig"
	log "github.com/sirupsen/logrus"
	"github.com/stagedeck/stagedeck/appstate"
	_ "github.com/stagedeck/stagedeck/argo/internal/noi18n" // before kubectl initialises
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"sigs.k8s.io/yaml"
)

// Options select the Argo CD to talk to, resolved as the argocd CLI does.
type Options struct {
	// ConfigPath is the argocd CLI config file; empty = the CLI's default location.
	ConfigPath string
	// Context is an argocd CLI context name; empty = its current context.
	// ARGOCD_SERVER, ARGOCD_AUTH_TOKEN and ARGOCD_OPTS's connection flags
	// override it, as they do for the CLI.
	Context string
	// ReadOnly refuses every mutating call at this layer.
	ReadOnly bool
}

// Client is a connection to one Argo CD API server.
type Client struct {
	server   string
	readOnly bool
	apps     application.ApplicationServiceClient
	accounts accountpkg.AccountServiceClient
	settings settingspkg.SettingsServiceClient
	closers  []io.Closer

	nsMu    sync.Mutex
	ns      string    // Argo CD's own namespace, once known
	nsAsked time.Time // when it was last asked without an answer
	// seenIn is, while ns is unknown, the namespaces each plain name was
	// listed in: a plain name then addresses the one app of that name.
	seenIn map[string][]string
	// plain: names were handed out plain while ns was unknown; ns is then
	// not asked again, so a name keeps meaning the app it meant.
	plain bool
}

// nsRetry is how long an unanswered ask for Argo CD's namespace stands
// before it is asked again: one failure costs one call, not one per app.
const nsRetry = 30 * time.Second

func init() {
	// argo-cd's apiclient logs through logrus; its warnings would scribble
	// over the terminal UI. Errors reach the user through returned values.
	log.SetOutput(io.Discard)
}

// Dial connects to Argo CD. It does not fail when the server is merely
// unreachable: calls then return ErrUnreachable, so the git side still shows.
func Dial(opts Options) (*Client, error) {
	co, err := clientOptions(opts)
	if err != nil {
		return nil, err
	}
	// The argocd client's own probe (a Version call, to learn whether the
	// server needs grpc-web) has no deadline: an Argo CD that takes the
	// connection and never answers would hold Dial, and every command,
	// for good. A dial given up on is closed when it ends.
	type dialled struct {
		c   *Client
		err error
	}
	done := make(chan dialled, 1)
	go func() {
		c, err := dial(opts, co)
		done <- dialled{c, err}
	}()
	select {
	case d := <-done:
		return d.c, d.err
	case <-time.After(dialTimeout):
		go func() {
			if d := <-done; d.c != nil {
				d.c.Close()
			}
		}()
		server := serverOf(co.ConfigPath, co.ServerAddr, opts.Context)
		return nil, fmt.Errorf("argo cd %s: %w: no answer in %s: check that it is Argo CD's API address (`argocd version --server %s`)", server, ErrUnreachable, dialTimeout, server)
	}
}

// dialTimeout bounds Dial, as appstate.CallTimeout bounds each call.
var dialTimeout = appstate.CallTimeout

func dial(opts Options, co *apiclient.ClientOptions) (*Client, error) {
	var err error
	cfgPath := co.ConfigPath
	// A dial that renews its user's token rewrites the config file: two at
	// once (Open dials each context at once; tokens that expired overnight
	// all renew in the morning) would each write back the file they read,
	// and one renewed token would be lost, its refresh token spent. Other
	// dials take no lock: one waiting behind a dial that hangs on its
	// server would be given up on too.
	var ac apiclient.Client
	if mayRenew(cfgPath, opts.Context, time.Now()) {
		renewMu.Lock()
		ac, err = apiclient.NewClient(co)
		renewMu.Unlock()
	} else {
		ac, err = apiclient.NewClient(co)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: argocd context %q: %v: run `argocd login %s` or set ARGOCD_SERVER and ARGOCD_AUTH_TOKEN", ErrUnauthenticated, opts.Context, err, serverOf(cfgPath, co.ServerAddr, opts.Context))
	}
	c := &Client{server: ac.ClientOptions().ServerAddr, readOnly: opts.ReadOnly}
	// Each client is its own connection, dialled to the end (TCP, TLS):
	// the three at once, so that a distant Argo CD costs one handshake's
	// time before the first call, not three.
	var (
		wg      sync.WaitGroup
		closers [3]io.Closer
		errs    [3]error
	)
	wg.Add(3)
	go func() { defer wg.Done(); closers[0], c.apps, errs[0] = ac.NewApplicationClient() }()
	go func() { defer wg.Done(); closers[1], c.accounts, errs[1] = ac.NewAccountClient() }()
	go func() { defer wg.Done(); closers[2], c.settings, errs[2] = ac.NewSettingsClient() }()
	wg.Wait()
	for _, cl := range closers {
		if cl != nil {
			c.closers = append(c.closers, cl)
		}
	}
	for _, err := range errs {
		if err != nil {
			c.Close() // the ones that did connect
			return nil, fmt.Errorf("argo cd %s: %w: %v", c.server, ErrUnreachable, err)
		}
	}
	return c, nil
}

// flagsMu guards argo-cd's ARGOCD_OPTS flags (a package map).
var flagsMu sync.Mutex

// renewMu keeps the dials that renew a token, and so rewrite the argocd
// config file, one at a time.
var renewMu sync.Mutex

// mayRenew reports whether the argocd client, dialling context, would
// renew its user's token, and so rewrite the config file: the user has a
// refresh token and the token's claims do not hold for another minute (a
// config that cannot be read is taken to renew).
func mayRenew(cfgPath, context string, now time.Time) bool {
	cfg, err := localconfig.ReadLocalConfig(cfgPath)
	if err != nil {
		return true
	}
	if cfg == nil {
		return false
	}
	cc, err := cfg.ResolveContext(context)
	if err != nil || cc == nil {
		return false
	}
	return cc.User.RefreshToken != "" && !freshToken(cc.User.AuthToken, now)
}

// freshToken reports whether a JWT's claims (read, not verified) hold for
// another minute, as the argocd client checks them before it renews: exp
// ahead, iat and nbf behind; a claim left out holds.
func freshToken(token string, now time.Time) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return false
	}
	var c struct {
		Exp *float64 `json:"exp"`
		Iat *float64 `json:"iat"`
		Nbf *float64 `json:"nbf"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return false
	}
	t := float64(now.Unix())
	return (c.Exp == nil || *c.Exp > t+60) && (c.Iat == nil || *c.Iat <= t) && (c.Nbf == nil || *c.Nbf <= t)
}

// clientOptions resolves the argocd client's options as the argocd CLI
// does: ARGOCD_OPTS carries default flags; its connection flags are
// honoured the same way.
func clientOptions(opts Options) (*apiclient.ClientOptions, error) {
	flagsMu.Lock()
	defer flagsMu.Unlock()
	if err := argoconfig.LoadFlags(); err != nil {
		return nil, fmt.Errorf("ARGOCD_OPTS: %w", err)
	}
	cfgPath := opts.ConfigPath
	if cfgPath == "" {
		cfgPath = argoconfig.GetFlag("config", "")
	}
	if cfgPath == "" {
		p, err := localconfig.DefaultLocalConfigPath()
		if err != nil {
			return nil, fmt.Errorf("argocd config: %w", err)
		}
		cfgPath = p
	}
	return &apiclient.ClientOptions{
		ConfigPath: cfgPath, Context: opts.Context,
		ServerAddr: argoconfig.GetFlag("server", ""), AuthToken: argoconfig.GetFlag("auth-token", ""),
		PlainText: argoconfig.GetBoolFlag("plaintext"), Insecure: argoconfig.GetBoolFlag("insecure"),
		GRPCWeb:   argoconfig.GetBoolFlag("grpc-web"),
		UserAgent: "stagedeck",
	}, nil
}

// home is Argo CD's own (control-plane) namespace, from its public
// settings, asked once: its apps keep their plain names; an app in any other
// namespace (Argo CD's apps in any namespace) is named namespace/name, as
// the argocd CLI names it, and addressed with that namespace.
func (c *Client) home(ctx context.Context) string {
	c.nsMu.Lock()
	defer c.nsMu.Unlock()
	if c.ns == "" && !c.plain && time.Since(c.nsAsked) >= nsRetry {
		cctx, cancel := WithTimeout(ctx)
		defer cancel()
		st, err := c.settings.Get(cctx, &settingspkg.SettingsQuery{})
		if err == nil {
			c.ns = st.GetControllerNamespace()
		}
		// A failure, or an Argo CD that does not say (older ones), is
		// asked again after nsRetry, until names were handed out plain;
		// a caller that gave up is no answer.
		if c.ns == "" && ctx.Err() == nil {
			c.nsAsked = time.Now()
		}
	}
	return c.ns
}

// toApp converts an Application, naming it as stagedeck shows it.
func (c *Client) toApp(ctx context.Context, a *v1alpha1.Application) App {
	return c.named(a, c.home(ctx))
}

// named converts an Application, naming it namespace/name outside home;
// while home is unknown, it notes which namespace the plain name is in.
func (c *Client) named(a *v1alpha1.Application, home string) App {
	if home == "" && a.Namespace != "" {
		c.nsMu.Lock()
		if c.seenIn == nil {
			c.seenIn = map[string][]string{}
		}
		if !slices.Contains(c.seenIn[a.Name], a.Namespace) {
			c.seenIn[a.Name] = append(c.seenIn[a.Name], a.Namespace)
		}
		c.plain = true
		c.nsMu.Unlock()
	}
	return named(a, home)
}

// address reads an app's name as a request sends it. A plain name is the
// app in Argo CD's own namespace; while that namespace is unknown (its
// settings could not be read) names are shown plain, and a plain name
// listed in one namespace is sent with it, while one listed in several is
// refused: another namespace's app of that name must not be the one acted
// on.
func (c *Client) address(qualified string) (name, ns string, err error) {
	name, ns = splitName(qualified)
	if ns != "" {
		return name, ns, nil
	}
	c.nsMu.Lock()
	defer c.nsMu.Unlock()
	if c.ns != "" {
		return name, "", nil
	}
	switch in := c.seenIn[name]; len(in) {
	case 0:
		return name, "", nil
	case 1:
		return name, in[0], nil
	default:
		return "", "", fmt.Errorf("%s: %w: there is one in each of the namespaces %s, and Argo CD's settings, which say which is its own, could not be read: run again once they can (argocd account get-user-info shows the session they need)",
			qualified, ErrNotFound, strings.Join(in, ", "))
	}
}

// named converts an Application, naming it namespace/name outside home.
func named(a *v1alpha1.Application, home string) App {
	out := fromApplication(a)
	if home != "" && a.Namespace != "" && a.Namespace != home {
		out.Name = a.Namespace + "/" + a.Name
	}
	return out
}

// splitName reads namespace/name ("" namespace: Argo CD's own).
func splitName(qualified string) (name, namespace string) {
	if ns, n, ok := strings.Cut(qualified, "/"); ok {
		return n, ns
	}
	return qualified, ""
}

// query addresses one app by its qualified name.
func (c *Client) query(qualified string) (*application.ApplicationQuery, error) {
	name, ns, err := c.address(qualified)
	if err != nil {
		return nil, err
	}
	q := &application.ApplicationQuery{Name: &name}
	if ns != "" {
		q.AppNamespace = &ns
	}
	return q, nil
}

// serverOf names the server a login would be for, for error messages.
func serverOf(cfgPath, serverAddr, context string) string {
	if serverAddr != "" {
		return serverAddr
	}
	if env := os.Getenv(apiclient.EnvArgoCDServer); env != "" {
		return env
	}
	if cfg, err := localconfig.ReadLocalConfig(cfgPath); err == nil && cfg != nil {
		if ctx, err := cfg.ResolveContext(context); err == nil && ctx != nil {
			return ctx.Server.Server
		}
	}
	return "<server>"
}

// Close releases the connections.
func (c *Client) Close() error {
	var errs []error
	for _, cl := range c.closers {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}

// wrap turns a gRPC error into one sentence naming the thing and the next step.
func (c *Client) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("argo cd %s: %s: %w: %v", c.server, what, ErrUnreachable, err)
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		return fmt.Errorf("argo cd %s: %s: %w (%s)", c.server, what, ErrUnreachable, st.Message())
	case codes.Unauthenticated:
		return fmt.Errorf("%w: %s: token missing or expired: run `argocd login %s`", ErrUnauthenticated, what, c.server)
	case codes.PermissionDenied:
		return fmt.Errorf("%w: %s: %s", ErrPermissionDenied, what, st.Message())
	case codes.NotFound:
		return fmt.Errorf("%w: %s: %s", ErrNotFound, what, st.Message())
	case codes.FailedPrecondition:
		if strings.Contains(strings.ToLower(st.Message()), "another operation is already in progress") {
			return fmt.Errorf("%w: %s", ErrOperationRunning, what)
		}
	case codes.Canceled:
		return context.Canceled
	}
	return fmt.Errorf("argo cd %s: %s: %s", c.server, what, st.Message())
}

// List returns every application visible to the token, in one call.
func (c *Client) List(ctx context.Context) ([]App, error) {
	// Argo CD's namespace, the first time, is asked beside the list, not
	// after it: its own connection's first call would add to every first
	// board.
	go c.home(ctx)
	list, err := c.apps.List(ctx, &application.ApplicationQuery{}, lean)
	if err != nil {
		return nil, c.wrap("list applications", err)
	}
	home := c.home(ctx) // (asked beside the list: answered by now)
	out := make([]App, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, c.named(&list.Items[i], home))
	}
	return out, nil
}

// Get returns one application; refresh "normal" or "hard" asks Argo CD to
// reconcile it first (List ignores refresh).
func (c *Client) Get(ctx context.Context, name, refresh string) (App, error) {
	q, err := c.query(name)
	if err != nil {
		return App{}, err
	}
	if refresh != "" {
		q.Refresh = &refresh
	}
	a, err := c.apps.Get(ctx, q)
	if err != nil {
		return App{}, c.wrap("get "+name, err)
	}
	return c.toApp(ctx, a), nil
}

// EventType says what happened to an app in a watch stream.
type EventType string

// Watch event types, as the Kubernetes watch API names them.
const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
)

// Event is one watch event.
type Event struct {
	Type EventType
	App  App
}

// Watcher is an open watch stream; Next blocks for the next event.
type Watcher struct {
	c      *Client
	ctx    context.Context
	stream application.ApplicationService_WatchClient
}

// Watch opens a watch on all applications (name "" ) or one.
func (c *Client) Watch(ctx context.Context, name string) (*Watcher, error) {
	q := &application.ApplicationQuery{}
	if name != "" {
		var err error
		if q, err = c.query(name); err != nil {
			return nil, err
		}
	}
	c.home(ctx) // known before the first event is named
	s, err := c.apps.Watch(ctx, q, lean)
	if err != nil {
		return nil, c.wrap("watch applications", err)
	}
	return &Watcher{c: c, ctx: ctx, stream: s}, nil
}

// Next returns the next event; an error ends the stream.
func (w *Watcher) Next() (Event, error) {
	ev, err := w.stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Event{}, fmt.Errorf("argo cd %s: watch: %w (stream closed)", w.c.server, ErrUnreachable)
		}
		return Event{}, w.c.wrap("watch applications", err)
	}
	return Event{Type: EventType(ev.Type), App: w.c.toApp(w.ctx, &ev.Application)}, nil
}

// Sync sends the sync request once; it never retries.
func (c *Client) Sync(ctx context.Context, r SyncRequest) (App, error) {
	if c.readOnly {
		return App{}, fmt.Errorf("sync %s: %w", r.App, ErrReadOnly)
	}
	if r.Revision == "" {
		return App{}, fmt.Errorf("sync %s: no revision given: stagedeck only syncs a reviewed revision", r.App)
	}
	name, ns, err := c.address(r.App)
	if err != nil {
		return App{}, fmt.Errorf("sync %w (nothing was sent)", err)
	}
	req := &application.ApplicationSyncRequest{
		Name: &name, Revision: &r.Revision, DryRun: &r.DryRun, Prune: &r.Prune,
	}
	if ns != "" {
		req.AppNamespace = &ns
	}
	if r.Project != "" {
		req.Project = &r.Project
	}
	// Of an app with several sources Argo CD ignores Revision: each source
	// pinned is named by its position, or it would sync to its target.
	for _, pos := range r.Sources {
		req.SourcePositions = append(req.SourcePositions, int64(pos))
		req.Revisions = append(req.Revisions, r.Revision)
	}
	if r.Operator != "" {
		req.Infos = append(req.Infos, &v1alpha1.Info{Name: "Operator", Value: r.Operator})
	}
	if r.Reason != "" {
		req.Infos = append(req.Infos, &v1alpha1.Info{Name: "Reason", Value: r.Reason})
	}
	a, err := c.apps.Sync(ctx, req)
	if err != nil {
		return App{}, c.wrap("sync "+r.App, err)
	}
	return c.toApp(ctx, a), nil
}

// Terminate stops the app's running operation.
func (c *Client) Terminate(ctx context.Context, app string) error {
	if c.readOnly {
		return fmt.Errorf("terminate %s: %w", app, ErrReadOnly)
	}
	name, ns, err := c.address(app)
	if err != nil {
		return fmt.Errorf("terminate %w (nothing was sent)", err)
	}
	req := &application.OperationTerminateRequest{Name: &name}
	if ns != "" {
		req.AppNamespace = &ns
	}
	_, err = c.apps.TerminateOperation(ctx, req)
	return c.wrap("terminate "+app, err)
}

// CanSync asks Argo CD whether the token may sync project/app; an app in
// another namespace is project/namespace/name, as Argo CD's RBAC names it.
func (c *Client) CanSync(ctx context.Context, project, app string) (bool, error) {
	name, ns, err := c.address(app)
	if err != nil {
		return false, err
	}
	if ns != "" {
		name = ns + "/" + name
	}
	res, err := c.accounts.CanI(ctx, &accountpkg.CanIRequest{Resource: "applications", Action: "sync", Subresource: project + "/" + name})
	if err != nil {
		return false, c.wrap("can-i sync "+app, err)
	}
	return res.Value == "yes", nil
}

// ManagedResources returns the app's resources with live and target state.
func (c *Client) ManagedResources(ctx context.Context, app string) ([]Resource, error) {
	name, ns, err := c.address(app)
	if err != nil {
		return nil, err
	}
	q := &application.ResourcesQuery{ApplicationName: &name}
	if ns != "" {
		q.AppNamespace = &ns
	}
	res, err := c.apps.ManagedResources(ctx, q)
	if err != nil {
		return nil, c.wrap("managed resources of "+app, err)
	}
	out := make([]Resource, 0, len(res.Items))
	for _, it := range res.Items {
		r := Resource{Group: it.Group, Kind: it.Kind, Namespace: it.Namespace, Name: it.Name, Modified: it.Modified, Hook: it.Hook}
		if r.Live, err = toYAML(it.NormalizedLiveState); err != nil {
			return nil, fmt.Errorf("live state of %s: %w", r.Path(), err)
		}
		if r.Target, err = toYAML(it.PredictedLiveState); err != nil {
			return nil, fmt.Errorf("target state of %s: %w", r.Path(), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// toYAML turns Argo CD's JSON states into YAML ("" and "null" mean absent).
func toYAML(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return "", nil
	}
	b, err := yaml.JSONToYAML([]byte(s))
	return string(b), err
}
