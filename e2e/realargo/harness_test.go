//go:build realargo

// Package realargo is the end-to-end tier against a real Argo CD: etcd,
// kube-apiserver, Argo CD's API server, repo server and application
// controller, Redis and real git, all on loopback in a temp dir. The
// binaries come from scripts/realargo-deps.sh (built once, cached by version).
package realargo

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// env is the running tier, shared by every test of the package.
var env *tier

type tier struct {
	dir, bin       string
	argoBin        string // Argo CD binaries and CRDs (STAGEDECK_E2E_ARGOCD_BIN, else bin)
	kubeconfig     string
	argoAddr       string
	token          string // the ci account's API token (admin), for the harness
	ownerToken     string // the env owner's API token
	argoConfig     string // an argocd CLI config logged in as the env owner: what stagedeck runs as
	adminConfig    string // the same contexts logged in as ci (role:admin)
	argoEnv        []string
	bare           string // the ops remote
	work           string // a clone standing for CI
	procs          []*exec.Cmd
	mu             sync.Mutex
	stagedeck      string
	repoServerAddr string
	redisAddr      string
	ports          map[string]int
	named          map[string]*exec.Cmd // long-lived processes by name
	pgids          []int                // process groups started, for the leftover check
	prod           prodInstance         // the second Argo CD, serving PROD
}

// prodInstance is a second Argo CD (API server, repo server, controller, its
// own Redis) in its own namespace on the same kube-apiserver, with the same
// binaries: PROD often runs on its own Argo CD.
type prodInstance struct {
	ns, addr, token, ownerToken string
	env                         []string
}

func TestMain(m *testing.M) {
	t := &tier{ports: map[string]int{}, named: map[string]*exec.Cmd{}}
	code := 1
	func() {
		defer func() {
			dir := t.dir
			t.stopAll()
			// No process of the tier may outlive it (CI runs on a shared machine).
			if left := t.leftovers(dir); len(left) > 0 {
				fmt.Fprintf(os.Stderr, "realargo: processes left behind after the tier stopped:\n  %s\n", strings.Join(left, "\n  "))
				code = 1
			}
		}()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() { <-sig; t.stopAll(); os.Exit(130) }()
		start := time.Now()
		if err := t.up(); err != nil {
			fmt.Fprintln(os.Stderr, "realargo: setting up the tier failed:", err)
			t.dumpLogs()
			return
		}
		fmt.Fprintf(os.Stderr, "realargo: tier up in %s (Argo CD from %s)\n", time.Since(start).Round(time.Millisecond), filepath.Base(t.argoBin))
		env = t
		code = m.Run()
		if code != 0 {
			t.dumpLogs()
		}
	}()
	os.Exit(code)
}

// portBlock is this process's own range of ports, below the kernel's
// ephemeral range (32768-60999 by default): two tiers running at once
// (test.sh runs v2 and v3 side by side) each hold a block, locked for the
// life of the process, and no outgoing connection is given one of them. A
// port from the ephemeral range could be handed to both tiers, and one
// Argo CD then dialled the other's repo-server.
var portBlock struct {
	lock *os.File
	next int
	end  int
}

const portBlockSize = 40

// freePort returns a port of this process's block that is free now.
func freePort() int {
	if portBlock.lock == nil {
		for i := 0; i < 200; i++ {
			f, err := os.OpenFile(filepath.Join(os.TempDir(), fmt.Sprintf("stagedeck-realargo-ports-%d.lock", i)), os.O_CREATE|os.O_RDWR, 0o600)
			if err != nil {
				panic(err)
			}
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
				f.Close()
				continue
			}
			portBlock.lock, portBlock.next = f, 20000+i*portBlockSize
			portBlock.end = portBlock.next + portBlockSize
			break
		}
		if portBlock.lock == nil {
			panic("realargo: every port block is held by another process")
		}
	}
	for ; portBlock.next < portBlock.end; portBlock.next++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", portBlock.next))
		if err != nil {
			continue
		}
		l.Close()
		portBlock.next++
		return l.Addr().(*net.TCPAddr).Port
	}
	panic("realargo: no free port left in this process's block")
}

// start runs a long-lived process whose output goes to dir/logs/name.log.
// Pdeathsig kills it if the test binary dies; stopAll kills it otherwise.
func (t *tier) start(name string, env []string, bin string, args ...string) (*exec.Cmd, error) {
	logf, err := os.Create(filepath.Join(t.dir, "logs", name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t.mu.Lock()
	t.procs = append(t.procs, cmd)
	t.named[name] = cmd
	t.pgids = append(t.pgids, cmd.Process.Pid)
	t.mu.Unlock()
	return cmd, nil
}

// leftovers lists the processes still alive of any group the tier started,
// or naming its directory (a child that left its group).
func (t *tier) leftovers(dir string) []string {
	t.mu.Lock()
	groups := map[string]bool{}
	for _, g := range t.pgids {
		groups[strconv.Itoa(g)] = true
	}
	t.mu.Unlock()
	time.Sleep(200 * time.Millisecond) // SIGKILLed groups are gone once reaped
	var left []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid := e.Name()
		if _, err := strconv.Atoi(pid); err != nil || pid == strconv.Itoa(os.Getpid()) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ")".
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		cl := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if len(f) > 2 && f[0] != "Z" && (groups[f[2]] || (dir != "" && strings.Contains(cl, dir))) {
			left = append(left, pid+" "+cl)
		}
	}
	return left
}

// stop kills the named process (and its group) and waits for it.
func (t *tier) stop(name string) *exec.Cmd {
	t.mu.Lock()
	p := t.named[name]
	t.mu.Unlock()
	if p != nil && p.Process != nil {
		_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		_, _ = p.Process.Wait()
	}
	return p
}

func (t *tier) stopAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.procs) - 1; i >= 0; i-- {
		p := t.procs[i]
		if p.Process != nil {
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			_, _ = p.Process.Wait()
		}
	}
	t.procs = nil
	if t.dir != "" && os.Getenv("STAGEDECK_E2E_KEEP") == "" {
		_ = os.RemoveAll(t.dir)
	}
}

func (t *tier) dumpLogs() {
	if t.dir == "" {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(t.dir, "logs", "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		fmt.Fprintf(os.Stderr, "---- %s (tail)\n%s\n", filepath.Base(l), b)
	}
}

func run(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out.String())
	}
	return strings.TrimSpace(out.String()), nil
}

func (t *tier) kubectl(args ...string) (string, error) {
	return run(t.dir, []string{"KUBECONFIG=" + t.kubeconfig}, filepath.Join(t.bin, "kubectl"), args...)
}

func (t *tier) kubectlApply(manifest string) error {
	cmd := exec.Command(filepath.Join(t.bin, "kubectl"), "apply", "-f", "-")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+t.kubeconfig)
	cmd.Stdin = strings.NewReader(manifest)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl apply: %v: %s", err, out)
	}
	return nil
}

func poll(timeout time.Duration, what string, f func() error) error {
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s: not ready after %s: %v", what, timeout, err)
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// up builds nothing (the deps script did), starts every process and
// installs CRDs, config, the ops repo and the Applications.
func (t *tier) up() error {
	var err error
	t.bin = os.Getenv("STAGEDECK_E2E_BIN")
	if t.bin == "" {
		out, err := run("../..", nil, "bash", "scripts/realargo-deps.sh")
		if err != nil {
			return err
		}
		t.bin = strings.TrimSpace(out[strings.LastIndex(out, "\n")+1:])
	}
	t.argoBin = t.bin
	if v := os.Getenv("STAGEDECK_E2E_ARGOCD_BIN"); v != "" {
		t.argoBin = v // a second backend: another Argo CD version, same suite
	}
	if t.dir, err = os.MkdirTemp("", "stagedeck-realargo-"); err != nil {
		return err
	}
	for _, d := range []string{"logs", "etcd", "certs", "tls", "ssh", "gpg", "gnupg", "tmp", "home"} {
		if err := os.MkdirAll(filepath.Join(t.dir, d), 0o700); err != nil {
			return err
		}
	}
	// stagedeck itself, built from this checkout.
	t.stagedeck = filepath.Join(t.dir, "stagedeck")
	if _, err := run("../..", nil, "go", "build", "-o", t.stagedeck, "."); err != nil {
		return err
	}
	for _, p := range []string{"etcd", "etcdPeer", "apiserver", "redis", "repo", "repoMetrics", "server", "serverMetrics", "ctrlMetrics",
		"prodRedis", "prodRepo", "prodRepoMetrics", "prodServer", "prodServerMetrics", "prodCtrlMetrics"} {
		t.ports[p] = freePort()
	}
	// etcd
	etcdBin := "/usr/bin/etcd"
	if p, err := exec.LookPath("etcd"); err == nil {
		etcdBin = p
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", t.ports["etcd"])
	if _, err := t.start("etcd", []string{"ETCD_UNSUPPORTED_ARCH=" + os.Getenv("GOARCH")}, etcdBin,
		"--data-dir", filepath.Join(t.dir, "etcd"), "--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", t.ports["etcdPeer"]),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", t.ports["etcdPeer"]),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", t.ports["etcdPeer"])); err != nil {
		return err
	}
	// kube-apiserver
	sa := filepath.Join(t.dir, "certs", "sa.key")
	if _, err := run(t.dir, nil, "openssl", "genrsa", "-out", sa, "2048"); err != nil {
		return err
	}
	if _, err := run(t.dir, nil, "openssl", "rsa", "-in", sa, "-pubout", "-out", sa+".pub"); err != nil {
		return err
	}
	adminToken := strings.TrimRight(base64.RawURLEncoding.EncodeToString([]byte(randomKey())), "=")
	tokens := filepath.Join(t.dir, "certs", "tokens.csv")
	if err := os.WriteFile(tokens, []byte(adminToken+",admin,admin,system:masters\n"), 0o600); err != nil {
		return err
	}
	if _, err := t.start("kube-apiserver", nil, filepath.Join(t.bin, "kube-apiserver"),
		"--etcd-servers", etcdURL, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(t.ports["apiserver"]), "--cert-dir", filepath.Join(t.dir, "certs"),
		"--token-auth-file", tokens, "--authorization-mode", "RBAC",
		"--service-account-key-file", sa+".pub", "--service-account-signing-key-file", sa,
		"--service-account-issuer", "https://kubernetes.default.svc", "--endpoint-reconciler-type", "none",
		"--service-cluster-ip-range", "10.96.0.0/24", "--disable-admission-plugins", "ServiceAccount"); err != nil {
		return err
	}
	t.kubeconfig = filepath.Join(t.dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: %q}
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: argocd}
current-context: local
`, t.ports["apiserver"], adminToken)
	if err := os.WriteFile(t.kubeconfig, []byte(kc), 0o600); err != nil {
		return err
	}
	if err := poll(90*time.Second, "kube-apiserver", func() error { _, err := t.kubectl("get", "--raw", "/readyz"); return err }); err != nil {
		return err
	}
	t.prod.ns = "argocd-prod"
	for _, ns := range []string{"argocd", t.prod.ns} {
		if _, err := t.kubectl("create", "namespace", ns); err != nil {
			return err
		}
	}
	crds, _ := filepath.Glob(filepath.Join(t.argoBin, "crds", "*-crd.yaml"))
	for _, c := range crds {
		if _, err := t.kubectl("apply", "-f", c); err != nil {
			return err
		}
	}
	if err := t.kubectlApply(sealedSecretCRD); err != nil {
		return err
	}
	// Established is polled: kubectl wait fails right after creation.
	if err := poll(60*time.Second, "CRDs", func() error {
		_, err := t.kubectl("get", "applications.argoproj.io,appprojects.argoproj.io,sealedsecrets.bitnami.com", "-A")
		return err
	}); err != nil {
		return err
	}
	adminPassword := "stagedeck-e2e"
	hash, _ := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.DefaultCost)
	for _, ns := range []string{"argocd", t.prod.ns} {
		m := fmt.Sprintf(argoConfigManifests, base64.StdEncoding.EncodeToString(hash),
			base64.StdEncoding.EncodeToString([]byte(time.Now().UTC().Format(time.RFC3339))), base64.StdEncoding.EncodeToString([]byte(randomKey()))) +
			appProject("default") + appProject("tst")
		if err := t.kubectlApply(strings.ReplaceAll(m, "namespace: argocd\n", "namespace: "+ns+"\n")); err != nil {
			return err
		}
	}
	// redis
	t.redisAddr = fmt.Sprintf("127.0.0.1:%d", t.ports["redis"])
	if _, err := t.start("redis", nil, "redis-server", "--port", fmt.Sprint(t.ports["redis"]), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no"); err != nil {
		return err
	}
	// Argo CD outside a cluster.
	argoEnv := []string{
		"KUBECONFIG=" + t.kubeconfig, "ARGOCD_FAKE_IN_CLUSTER=true", "ARGOCD_GPG_ENABLED=false",
		"ARGOCD_TLS_DATA_PATH=" + filepath.Join(t.dir, "tls"), "ARGOCD_SSH_DATA_PATH=" + filepath.Join(t.dir, "ssh"),
		"ARGOCD_GNUPGHOME=" + filepath.Join(t.dir, "gnupg"), "ARGOCD_GPG_DATA_PATH=" + filepath.Join(t.dir, "gpg"),
		"ARGOCD_PLUGINSOCKFILEPATH=" + filepath.Join(t.dir, "tmp"), "ARGOCD_ASK_PASS_SOCK=" + filepath.Join(t.dir, "tmp", "askpass.sock"),
		"TMPDIR=" + filepath.Join(t.dir, "tmp"), "HOME=" + filepath.Join(t.dir, "home"),
		"PATH=" + t.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	t.repoServerAddr = fmt.Sprintf("127.0.0.1:%d", t.ports["repo"])
	if _, err := t.start("repo-server", argoEnv, filepath.Join(t.argoBin, "argocd-repo-server"),
		"--port", fmt.Sprint(t.ports["repo"]), "--address", "127.0.0.1", "--metrics-port", fmt.Sprint(t.ports["repoMetrics"]),
		"--metrics-address", "127.0.0.1", "--disable-tls", "--redis", t.redisAddr, "--loglevel", "warn"); err != nil {
		return err
	}
	if _, err := t.start("application-controller", argoEnv, filepath.Join(t.argoBin, "argocd-application-controller"),
		"--repo-server", t.repoServerAddr, "--repo-server-plaintext", "--redis", t.redisAddr, "--namespace", "argocd",
		"--application-namespaces", "team-*",
		"--metrics-port", fmt.Sprint(t.ports["ctrlMetrics"]), "--app-resync", appResync(), "--loglevel", "warn"); err != nil {
		return err
	}
	t.argoEnv = argoEnv
	if err := t.startServer(argoEnv); err != nil {
		return err
	}
	if err := t.login(adminPassword); err != nil {
		return err
	}
	if err := t.upProd(argoEnv, adminPassword); err != nil {
		return err
	}
	if err := t.opsRepo(); err != nil {
		return err
	}
	return t.applications()
}

func (t *tier) startServer(argoEnv []string) error {
	t.argoAddr = fmt.Sprintf("127.0.0.1:%d", t.ports["server"])
	if _, err := t.start("server", argoEnv, filepath.Join(t.argoBin, "argocd-server"),
		"--insecure", "--address", "127.0.0.1", "--port", fmt.Sprint(t.ports["server"]), "--metrics-port", fmt.Sprint(t.ports["serverMetrics"]),
		"--repo-server", t.repoServerAddr, "--repo-server-plaintext", "--redis", t.redisAddr, "--namespace", "argocd",
		"--application-namespaces", "team-*",
		"--staticassets", filepath.Join(t.dir, "tmp"), "--loglevel", "warn"); err != nil {
		return err
	}
	return healthy("argocd-server", t.argoAddr)
}

// healthy waits for an argocd-server's /healthz.
func healthy(what, addr string) error {
	return poll(60*time.Second, what, func() error {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})
}

// upProd starts the second Argo CD in its own namespace with its own Redis,
// repo server, controller and API server, and logs in to it.
func (t *tier) upProd(argoEnv []string, adminPassword string) error {
	p := &t.prod
	p.env = argoEnv
	redis := fmt.Sprintf("127.0.0.1:%d", t.ports["prodRedis"])
	if _, err := t.start("prod-redis", nil, "redis-server", "--port", fmt.Sprint(t.ports["prodRedis"]), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no"); err != nil {
		return err
	}
	repo := fmt.Sprintf("127.0.0.1:%d", t.ports["prodRepo"])
	if _, err := t.start("prod-repo-server", argoEnv, filepath.Join(t.argoBin, "argocd-repo-server"),
		"--port", fmt.Sprint(t.ports["prodRepo"]), "--address", "127.0.0.1", "--metrics-port", fmt.Sprint(t.ports["prodRepoMetrics"]),
		"--metrics-address", "127.0.0.1", "--disable-tls", "--redis", redis, "--loglevel", "warn"); err != nil {
		return err
	}
	if _, err := t.start("prod-application-controller", argoEnv, filepath.Join(t.argoBin, "argocd-application-controller"),
		"--repo-server", repo, "--repo-server-plaintext", "--redis", redis, "--namespace", p.ns,
		"--metrics-port", fmt.Sprint(t.ports["prodCtrlMetrics"]), "--app-resync", appResync(), "--loglevel", "warn"); err != nil {
		return err
	}
	if err := t.startProdServer(); err != nil {
		return err
	}
	session, err := t.apiAt(p.addr, "POST", "/api/v1/session", "", map[string]string{"username": "admin", "password": adminPassword})
	if err != nil {
		return err
	}
	tok, err := t.apiAt(p.addr, "POST", "/api/v1/account/ci/token", session["token"].(string), map[string]string{"name": "ci"})
	if err != nil {
		return err
	}
	p.token = tok["token"].(string)
	owner, err := t.apiAt(p.addr, "POST", "/api/v1/account/owner/token", p.token, map[string]string{"name": "owner"})
	if err != nil {
		return err
	}
	p.ownerToken = owner["token"].(string)
	return t.writeArgoConfig()
}

// appResync is the controllers' periodic reconciliation in seconds: 10
// for the flows; the fleet-scale bench sets STAGEDECK_E2E_APP_RESYNC so
// that 2,000 apps are compared when created and the machine is then quiet
// while it measures (as a production controller's 3 minutes would be).
func appResync() string {
	if v := os.Getenv("STAGEDECK_E2E_APP_RESYNC"); v != "" {
		return v
	}
	return "10"
}

// startProdServer starts (or restarts) the second Argo CD's API server.
func (t *tier) startProdServer() error {
	p := &t.prod
	p.addr = fmt.Sprintf("127.0.0.1:%d", t.ports["prodServer"])
	redis := fmt.Sprintf("127.0.0.1:%d", t.ports["prodRedis"])
	repo := fmt.Sprintf("127.0.0.1:%d", t.ports["prodRepo"])
	if _, err := t.start("prod-server", p.env, filepath.Join(t.argoBin, "argocd-server"),
		"--insecure", "--address", "127.0.0.1", "--port", fmt.Sprint(t.ports["prodServer"]), "--metrics-port", fmt.Sprint(t.ports["prodServerMetrics"]),
		"--repo-server", repo, "--repo-server-plaintext", "--redis", redis, "--namespace", p.ns,
		"--staticassets", filepath.Join(t.dir, "tmp"), "--loglevel", "warn"); err != nil {
		return err
	}
	return healthy("the second argocd-server", p.addr)
}

func (t *tier) api(method, path, token string, body any) (map[string]any, error) {
	return t.apiAt(t.argoAddr, method, path, token, body)
}

// apiAt calls the REST API of the Argo CD at addr.
func (t *tier) apiAt(addr, method, path, token string, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	_ = json.Unmarshal(data, &out)
	return out, nil
}

// login gets an admin session, mints an API token for the ci account and
// writes an argocd CLI config with it, as `argocd login` would.
func (t *tier) login(adminPassword string) error {
	var session map[string]any
	if err := poll(30*time.Second, "admin login", func() error {
		var err error
		session, err = t.api("POST", "/api/v1/session", "", map[string]string{"username": "admin", "password": adminPassword})
		return err
	}); err != nil {
		return err
	}
	tok, err := t.api("POST", "/api/v1/account/ci/token", session["token"].(string), map[string]string{"name": "ci"})
	if err != nil {
		return err
	}
	t.token = tok["token"].(string)
	owner, err := t.api("POST", "/api/v1/account/owner/token", t.token, map[string]string{"name": "owner"})
	if err != nil {
		return err
	}
	t.ownerToken = owner["token"].(string)
	t.argoConfig = filepath.Join(t.dir, "argocd-config")
	t.adminConfig = filepath.Join(t.dir, "argocd-config-admin")
	return t.writeArgoConfig()
}

// writeArgoConfig writes the argocd CLI configs with a context per Argo CD:
// e2e (current) and, once it is up, prod; one logged in as the env owner
// (get on every app, sync on the tst project only), one as ci (admin).
func (t *tier) writeArgoConfig() error {
	write := func(path, token, prodToken string) error {
		contexts := fmt.Sprintf("- name: e2e\n  server: %[1]s\n  user: %[1]s\n", t.argoAddr)
		servers := fmt.Sprintf("- server: %s\n  plain-text: true\n", t.argoAddr)
		users := fmt.Sprintf("- name: %s\n  auth-token: %s\n", t.argoAddr, token)
		if prodToken != "" {
			contexts += fmt.Sprintf("- name: prod\n  server: %[1]s\n  user: %[1]s\n", t.prod.addr)
			servers += fmt.Sprintf("- server: %s\n  plain-text: true\n", t.prod.addr)
			users += fmt.Sprintf("- name: %s\n  auth-token: %s\n", t.prod.addr, prodToken)
		}
		cfg := "contexts:\n" + contexts + "current-context: e2e\nservers:\n" + servers + "users:\n" + users
		return os.WriteFile(path, []byte(cfg), 0o600)
	}
	if err := write(t.adminConfig, t.token, t.prod.token); err != nil {
		return err
	}
	return write(t.argoConfig, t.ownerToken, t.prod.ownerToken)
}

// stagedeckEnv is the environment stagedeck runs with in this tier.
func (t *tier) stagedeckEnv() []string {
	return []string{"XDG_CACHE_HOME=" + filepath.Join(t.dir, "home", "cache"), "ARGOCD_SERVER=", "ARGOCD_AUTH_TOKEN=", "USER=e2e",
		"STAGEDECK_OPERATOR=E2E Operator <e2e@example.com>"}
}

// config writes a stagedeck.yaml for the tier, running as the env owner,
// and returns its path.
func (t *tier) config(extra string) string { return t.configAs(t.argoConfig, extra) }

// adminCfg is a stagedeck.yaml running as ci (admin): for the setup steps
// an env owner may not take (deploying PERF and PROD).
func (t *tier) adminCfg() string { return t.configAs(t.adminConfig, "") }

// withArgoConfig is a stagedeck.yaml over a copy of the owner's argocd
// config changed by edit.
func (t *tier) withArgoConfig(edit func(string) string) string {
	data, err := os.ReadFile(t.argoConfig)
	if err != nil {
		panic(err)
	}
	p := filepath.Join(t.dir, fmt.Sprintf("argocd-config-%d", time.Now().UnixNano()))
	if err := os.WriteFile(p, []byte(edit(string(data))), 0o600); err != nil {
		panic(err)
	}
	return t.configAs(p, "")
}

func (t *tier) configAs(argoConfig, extra string) string {
	p := filepath.Join(t.dir, fmt.Sprintf("stagedeck-%d.yaml", time.Now().UnixNano()))
	cfg := fmt.Sprintf(`opsRepo:
  url: file://%s
argocd:
  context: e2e
  configPath: %s
cacheDir: %s
%sstages:
  - {name: itg, path: itg}
  - {name: tst, path: tst}
  - {name: perf, path: perf}
  - {name: prod, path: prod, protected: true, argocd: prod}
`, t.bare, argoConfig, filepath.Join(t.dir, "home", "cache", fmt.Sprint(time.Now().UnixNano())), extra)
	_ = os.WriteFile(p, []byte(cfg), 0o644)
	return p
}

// stagedeckRun runs the built binary and returns stdout, stderr, exit code.
func (t *tier) stagedeckRun(args ...string) (string, string, int) {
	cmd := exec.Command(t.stagedeck, args...)
	cmd.Env = append(os.Environ(), t.stagedeckEnv()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return out.String(), errb.String(), code
}
