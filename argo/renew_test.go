package argo

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func jwtWith(claims string) string {
	return "e30." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
}

// A token is taken as fresh as the argocd client takes it, with a minute
// to spare: anything it would renew, or cannot read, is not fresh.
func TestFreshToken(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	for _, tc := range []struct {
		token string
		fresh bool
	}{
		{jwtWith(`{"exp":1790003600}`), true},
		{jwtWith(`{"exp":1790000030}`), false}, // within the minute
		{jwtWith(`{"exp":1789999000}`), false},
		{jwtWith(`{"sub":"admin","iat":1789990000}`), true}, // no exp: holds
		{jwtWith(`{"exp":1790003600,"iat":1790000100}`), false},
		{jwtWith(`{"exp":1790003600,"nbf":1790000100}`), false},
		{"not-a-jwt", false},
		{"a.!!!.c", false},
		{jwtWith(`[1]`), false},
	} {
		if got := freshToken(tc.token, now); got != tc.fresh {
			t.Errorf("freshToken(%s) = %v, want %v", tc.token, got, tc.fresh)
		}
	}
}

// Only a dial that renews (a refresh token and a token that will not hold)
// or whose config cannot be read waits for the other dials that renew.
func TestMayRenew(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	data := `contexts:
- {name: sso, server: a, user: sso}
- {name: sso-fresh, server: b, user: sso-fresh}
- {name: token, server: c, user: token}
current-context: sso
servers:
- {server: a}
- {server: b}
- {server: c}
users:
- {name: sso, auth-token: "` + jwtWith(`{"exp":1789999000}`) + `", refresh-token: r}
- {name: sso-fresh, auth-token: "` + jwtWith(`{"exp":1790003600}`) + `", refresh-token: r}
- {name: token, auth-token: "` + jwtWith(`{"exp":1789999000}`) + `"}
`
	if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	for ctx, want := range map[string]bool{"sso": true, "": true, "sso-fresh": false, "token": false, "missing": false} {
		if got := mayRenew(cfg, ctx, now); got != want {
			t.Errorf("context %q: mayRenew %v, want %v", ctx, got, want)
		}
	}
	if mayRenew(filepath.Join(dir, "none"), "sso", now) {
		t.Error("no config file: nothing to renew")
	}
	// argo-cd refuses a config others may read: an error, taken to renew.
	open := filepath.Join(dir, "open")
	if err := os.WriteFile(open, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if !mayRenew(open, "sso-fresh", now) {
		t.Error("a config that cannot be read: taken not to renew")
	}
}
