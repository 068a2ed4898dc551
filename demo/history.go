package demo

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/opsrepo"
)

var people = map[string][2]string{
	"ci-bot": {"ci-bot", "ci@example.com"},
	"dana":   {"Dana Kim", "dana.kim@example.com"},
	"omar":   {"Omar Haddad", "omar.haddad@example.com"},
	"lea":    {"Léa Martin", "lea.martin@example.com"},
	"raj":    {"Raj Patel", "raj.patel@example.com"},
}

// commit writes the current layout of the given stage/app dirs as one commit
// on main and returns its sha.
func (sb *Sandbox) commit(who, subject string, when time.Time, dirs ...string) (string, error) {
	var changes []opsrepo.FileChange
	for _, d := range dirs {
		stage, app, _ := strings.Cut(d, "/")
		changes = append(changes, sb.state.files(stage, app)...)
	}
	var parent plumbing.Hash
	if h, err := sb.ops.Head(); err == nil {
		parent = h
	}
	p := people[who]
	h, err := sb.ops.WriteCommit(parent, changes, opsrepo.Signature{Name: p[0], Email: p[1], When: when}, subject+"\n")
	if err != nil {
		return "", err
	}
	if err := sb.ops.SetBranch(parent, h); err != nil {
		return "", err
	}
	sb.state.mu.Lock()
	for _, st := range Stages {
		for _, app := range Apps {
			sb.state.imageIdx[h.String()+" "+st.Path+"/"+app] = sb.state.imagesFor(st.Name, app)
		}
	}
	sb.state.mu.Unlock()
	return h.String(), nil
}

// buildHistory writes about 30 commits over two weeks: releases flowing
// itg -> tst -> perf -> prod, config tweaks, a sealed-secret rotation and an
// MR preview. It returns the revision each stage is deployed at: TST and PROD
// are behind.
func (sb *Sandbox) buildHistory(epoch time.Time) (map[string]string, error) {
	sb.state = &layout{apps: map[string]*appState{}, imageIdx: map[string][]string{}}
	base := map[string]string{"web": "1.3.0", "api": "2.0.4", "worker": "0.9.2"}
	for _, st := range Stages {
		for _, app := range Apps {
			sb.state.apps[st.Name+"/"+app] = &appState{tag: base[app], replicas: 2,
				secret: "AgC4kX9Qz1c8Wm2rT0vLp7YhN3sB6dFjE5uKaG0iOq" + st.Name}
		}
	}
	sb.state.key("prod", "web").replicas = 4
	sb.state.key("prod", "api").replicas = 4
	all := func(stage string) []string {
		out := make([]string, len(Apps))
		for i, a := range Apps {
			out[i] = stage + "/" + a
		}
		return out
	}
	start := epoch.Add(-32*10*time.Hour - 25*time.Minute).Truncate(time.Minute)
	step := 0
	at := func() time.Time { step++; return start.Add(time.Duration(step) * 10 * time.Hour) }
	deployed := map[string]string{}
	var err error
	do := func(who, subject string, dirs ...string) string {
		if err != nil {
			return ""
		}
		var h string
		h, err = sb.commit(who, subject, at(), dirs...)
		return h
	}
	var dirs []string
	for _, st := range []string{"itg", "tst", "perf", "prod"} {
		dirs = append(dirs, all(st)...)
	}
	do("dana", "Initial ops layout for shop: web, api, worker", dirs...)
	promote := func(who, app, from, to string) string {
		*sb.state.key(to, app) = withTag(*sb.state.key(to, app), sb.state.key(from, app).tag)
		return do(who, fmt.Sprintf("Promote %s %s to %s", app, sb.state.key(to, app).tag, to), to+"/"+app)
	}
	ci := func(app string) string {
		v := sb.state.bump("itg", app)
		return do("ci-bot", fmt.Sprintf("ci: deploy %s %s to itg", app, v), "itg/"+app)
	}
	ci("web")
	ci("api")
	promote("omar", "web", "itg", "tst")
	promote("omar", "api", "itg", "tst")
	ci("worker")
	promote("lea", "web", "tst", "perf")
	promote("lea", "api", "tst", "perf")
	sb.state.key("perf", "api").extra = []string{"PROFILING: \"true\""}
	do("raj", "perf: enable api profiling for the load test", "perf/api")
	promote("raj", "web", "perf", "prod")
	deployed["prod-previous"] = promote("raj", "api", "perf", "prod")
	ci("web")
	promote("omar", "worker", "itg", "tst")
	sb.state.key("prod", "api").replicas = 6
	do("raj", "prod: raise api replicas to 6 for the sale", "prod/api")
	ci("api")
	promote("omar", "web", "itg", "tst")
	promote("lea", "worker", "tst", "perf")
	promote("lea", "web", "tst", "perf")
	deployed["prod"] = promote("raj", "worker", "perf", "prod")
	ci("web")
	for _, st := range []string{"itg", "tst", "perf", "prod"} {
		sb.state.key(st, "api").secret = "AgBhR7tYw2nQ5xK8mV3cL0pZ9sD4fG6jH1uE7iO2aT" + st
	}
	do("dana", "Rotate api DB password (sealed) in all stages", "itg/api", "tst/api", "perf/api", "prod/api")
	promote("lea", "api", "tst", "perf")
	sb.state.key("perf", "worker").replicas = 3
	deployed["perf"] = do("lea", "perf: raise worker replicas to 3", "perf/worker")
	deployed["tst"] = promote("omar", "api", "itg", "tst")
	sb.state.key("mr-123", "web").tag = "1.5.0-mr123"
	do("ci-bot", "ci: deploy MR !123 preview (web 1.5.0-mr123)", all("mr-123")...)
	deployed["mr-123"] = sb.headOrEmpty()
	ci("worker")
	promote("omar", "web", "itg", "tst")
	promote("omar", "worker", "itg", "tst")
	sb.state.key("prod", "web").extra = []string{"FEATURE_NEW_CHECKOUT: \"false\""}
	do("dana", "prod: keep the new checkout off until Monday", "prod/web")
	deployed["itg"] = ci("api")
	if err != nil {
		return nil, err
	}
	return deployed, nil
}

func withTag(s appState, tag string) appState {
	s.tag = tag
	return s
}

func (sb *Sandbox) headOrEmpty() string {
	h, err := sb.ops.Head()
	if err != nil {
		return ""
	}
	return h.String()
}
