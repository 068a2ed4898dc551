package opsrepo

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/stagedeck/stagedeck/sanitize"
)

// Auth picks credentials for a remote URL the way a git user expects:
// HTTPS: STAGEDECK_GIT_TOKEN, else the git credential helper (when git is
// installed); SSH: the key in STAGEDECK_SSH_KEY, else ssh-agent; host keys are
// always checked against known_hosts. Local paths and file:// need none.
func Auth(rawURL string) (transport.AuthMethod, error) {
	if IsLocalPath(rawURL) || strings.HasPrefix(rawURL, "file://") {
		return nil, nil
	}
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		return nil, fmt.Errorf("ops repo url %q: %w", sanitize.Userinfo(rawURL), err)
	}
	switch ep.Protocol {
	case "http", "https":
		if tok := os.Getenv("STAGEDECK_GIT_TOKEN"); tok != "" {
			if ep.Protocol == "http" && !isLoopback(ep.Host) {
				return nil, fmt.Errorf("%w, not to %s over plain http: use an https URL, or unset the token", ErrInsecureToken, ep.Host)
			}
			user := ep.User
			if user == "" {
				user = "git"
			}
			return &http.BasicAuth{Username: user, Password: tok}, nil
		}
		if ep.Protocol == "http" && !isLoopback(ep.Host) {
			return nil, nil // no stored credentials over plain http
		}
		if user, pass, ok := credentialFill(ep); ok {
			return &http.BasicAuth{Username: user, Password: pass}, nil
		}
		return nil, nil // anonymous; a push then fails with a clear auth error
	case "ssh":
		user := ep.User
		if user == "" {
			user = "git"
		}
		if key := os.Getenv("STAGEDECK_SSH_KEY"); key != "" {
			a, err := gitssh.NewPublicKeysFromFile(user, key, os.Getenv("STAGEDECK_SSH_KEY_PASSPHRASE"))
			if err != nil {
				return nil, fmt.Errorf("ssh key %s: %w", key, err)
			}
			return a, nil
		}
		a, err := gitssh.NewSSHAgentAuth(user)
		if err != nil {
			return nil, fmt.Errorf("ssh-agent: %w: start an agent with your key or set STAGEDECK_SSH_KEY", err)
		}
		return a, nil
	}
	return nil, nil
}

// credentialFill asks `git credential fill` for HTTPS credentials, without prompting.
func credentialFill(ep *transport.Endpoint) (user, pass string, ok bool) {
	if _, err := exec.LookPath("git"); err != nil {
		return "", "", false
	}
	u := url.URL{Scheme: ep.Protocol, Host: ep.Host}
	if ep.Port != 0 {
		u.Host = fmt.Sprintf("%s:%d", ep.Host, ep.Port)
	}
	in := fmt.Sprintf("protocol=%s\nhost=%s\npath=%s\n\n", ep.Protocol, u.Host, strings.TrimPrefix(ep.Path, "/"))
	cmd := exec.Command("git", "credential", "fill")
	cmd.Stdin = strings.NewReader(in)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
	var out bytes.Buffer
	cmd.Stdout = &out
	if cmd.Run() != nil {
		return "", "", false
	}
	for _, line := range strings.Split(out.String(), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "username":
			user = v
		case "password":
			pass = v
		}
	}
	return user, pass, pass != ""
}

// ErrInsecureToken refuses to send a token where anyone on the path reads it.
var ErrInsecureToken = errors.New("STAGEDECK_GIT_TOKEN is sent only over https")

// splitCredentials moves a password in an http(s) URL into Auth (unless
// Auth is already set) and returns the URL without its userinfo.
func splitCredentials(raw string, auth transport.AuthMethod) (string, transport.AuthMethod) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || (u.Scheme != "http" && u.Scheme != "https") {
		return raw, auth
	}
	if pw, ok := u.User.Password(); ok && auth == nil {
		auth = &http.BasicAuth{Username: u.User.Username(), Password: pw}
	} else if auth == nil {
		return raw, auth // a user name alone is not a secret: git asks its helper for that user
	}
	u.User = nil
	return u.String(), auth
}

// isLoopback reports whether host is this machine.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PrivateDir makes dir (and its parents) and gives dir mode 0700, also when
// an older version made it 0755: it holds clones and the board cache.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}
