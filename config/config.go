// Package config loads stagedeck.yaml: the ops repository, the Argo CD
// contexts and the ordered list of stages an owner looks after.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrNotFound is returned by Find when no config file exists in any default location.
var ErrNotFound = errors.New("no stagedeck config found")

// Config is the parsed stagedeck.yaml.
type Config struct {
	OpsRepo  OpsRepo  `yaml:"opsRepo"`
	ArgoCD   *ArgoCD  `yaml:"argocd"`
	Stages   []Stage  `yaml:"stages"`
	ReadOnly bool     `yaml:"readOnly"`
	Refresh  Duration `yaml:"refreshInterval"`
	// CacheDir holds cache clones of remote ops repos; default $XDG_CACHE_HOME/stagedeck.
	CacheDir string `yaml:"cacheDir"`
	// Operators may sync and roll back over `stagedeck serve`, on their
	// stages; every other key is read-only there.
	Operators []Operator `yaml:"operators"`
	// Serve tunes `stagedeck serve`.
	Serve Serve `yaml:"serve"`

	// Path is where the config was read from; empty for built-in configs.
	Path string `yaml:"-"`
}

// OpsRepo names the GitOps repository the stages live in.
type OpsRepo struct {
	URL    string `yaml:"url"`
	Branch string `yaml:"branch"`
}

// ArgoCD selects a context of the argocd CLI's own config file.
type ArgoCD struct {
	// Context names an argocd CLI context; empty means its current one.
	Context string `yaml:"context"`
	// ConfigPath overrides the argocd CLI config file location.
	ConfigPath string `yaml:"configPath"`
}

// Stage is one deployment stage: a directory of the ops repo.
type Stage struct {
	Name      string `yaml:"name"`
	Path      string `yaml:"path"`
	Protected bool   `yaml:"protected"`
	CIManaged bool   `yaml:"ciManaged"`
	// ArgoCD optionally names another argocd CLI context serving this stage.
	ArgoCD string `yaml:"argocd"`
}

// Operator is a person who may act over `stagedeck serve`: who they are
// (recorded in commits and Argo CD's sync info) and the key they log in with.
type Operator struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	// Key is an authorized_keys line ("ssh-ed25519 AAAA… comment"), or
	// Fingerprint its SHA256 fingerprint ("SHA256:…", as ssh-keygen -lf prints).
	Key         string `yaml:"key"`
	Fingerprint string `yaml:"fingerprint"`
	// Stages they may sync and roll back (protected ones still ask for the name).
	Stages []string `yaml:"stages"`
}

// Serve tunes `stagedeck serve`.
type Serve struct {
	// Idle ends a console nobody typed in for this long ("15m", the default).
	Idle string `yaml:"idleTimeout"`
	// IdleTimeout is Idle parsed.
	IdleTimeout time.Duration `yaml:"-"`
	// MaxSessionsPerKey bounds the sessions one key may hold at once (default 4).
	MaxSessionsPerKey int `yaml:"maxSessionsPerKey"`
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration struct{ time.Duration }

// UnmarshalYAML parses Go duration strings.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: refreshInterval %q is not a positive duration like 30s", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// GitOnly reports whether no Argo CD is configured.
func (c *Config) GitOnly() bool { return c.ArgoCD == nil }

// StageByName returns the named stage.
func (c *Config) StageByName(name string) (Stage, bool) {
	for _, s := range c.Stages {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return Stage{}, false
}

// StageNames lists the configured stage names in order.
func (c *Config) StageNames() []string {
	names := make([]string, len(c.Stages))
	for i, s := range c.Stages {
		names[i] = s.Name
	}
	return names
}

// ContextFor returns the argocd context serving stage s ("" = current context).
func (c *Config) ContextFor(s Stage) string {
	if s.ArgoCD != "" {
		return s.ArgoCD
	}
	if c.ArgoCD != nil {
		return c.ArgoCD.Context
	}
	return ""
}

// Find returns the config path to use: explicit if given, else ./stagedeck.yaml,
// else $XDG_CONFIG_HOME/stagedeck/config.yaml.
func Find(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	candidates := []string{"stagedeck.yaml"}
	if dir, err := os.UserConfigDir(); err == nil {
		candidates = append(candidates, filepath.Join(dir, "stagedeck", "config.yaml"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w (looked for %s): pass --config FILE, or try --demo", ErrNotFound, strings.Join(candidates, ", "))
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, errors.Unwrap(err))
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

var yamlLinePrefix = regexp.MustCompile(`^yaml: (unmarshal errors:\n\s*)?`)

// Parse decodes and validates a config document.
func Parse(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("file is empty: it needs opsRepo.url and stages")
		}
		msg := yamlLinePrefix.ReplaceAllString(err.Error(), "")
		msg = strings.ReplaceAll(msg, "\n ", ";")
		msg = strings.ReplaceAll(msg, " in type config.", " in ")
		return nil, errors.New(strings.TrimSpace(msg))
	}
	if err := c.validate(b); err != nil {
		return nil, err
	}
	return &c, nil
}

var stageNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (c *Config) validate(src []byte) error {
	lines := stageLines(src)
	line := func(i int) string {
		if i < len(lines) {
			return fmt.Sprintf("line %d: ", lines[i])
		}
		return ""
	}
	if c.OpsRepo.URL == "" {
		return errors.New("opsRepo.url is missing: set it to the ops repository's URL or a local path")
	}
	if c.OpsRepo.Branch == "" {
		c.OpsRepo.Branch = "main"
	}
	if len(c.Stages) == 0 {
		return errors.New("stages is empty: list at least one {name, path}")
	}
	seen := map[string]int{}
	for i := range c.Stages {
		s := &c.Stages[i]
		if s.Name == "" {
			return fmt.Errorf("%sstages[%d].name is missing", line(i), i)
		}
		if !stageNameRE.MatchString(s.Name) {
			return fmt.Errorf("%sstages[%d].name %q: use letters, digits, '.', '_' or '-'", line(i), i, s.Name)
		}
		if j, dup := seen[strings.ToLower(s.Name)]; dup {
			return fmt.Errorf("%sstages[%d].name %q duplicates stages[%d]", line(i), i, s.Name, j)
		}
		seen[strings.ToLower(s.Name)] = i
		p := strings.Trim(filepath.ToSlash(s.Path), "/")
		if p == "" || p == "." {
			return fmt.Errorf("%sstages[%d].path is missing for stage %q", line(i), i, s.Name)
		}
		if strings.Contains("/"+p+"/", "/../") {
			return fmt.Errorf("%sstages[%d].path %q must stay inside the repository", line(i), i, s.Path)
		}
		s.Path = strings.Trim(path.Clean("/"+p), "/")
		if s.Path == "" { // "./.": the repository's root
			return fmt.Errorf("%sstages[%d].path %q is the repository's root: give the stage's directory", line(i), i, p)
		}
		if s.ArgoCD != "" && c.ArgoCD == nil {
			return fmt.Errorf("%sstages[%d].argocd names context %q but there is no top-level argocd section", line(i), i, s.ArgoCD)
		}
	}
	if c.Refresh.Duration == 0 {
		c.Refresh.Duration = 30 * time.Second
	}
	for i, o := range c.Operators {
		switch {
		case strings.TrimSpace(o.Name) == "" || !strings.Contains(o.Email, "@"):
			return fmt.Errorf("operators[%d]: name and email are required: they go into commits and Argo CD's sync info", i)
		case (o.Key == "") == (o.Fingerprint == ""):
			return fmt.Errorf("operators[%d] (%s): give exactly one of key (an authorized_keys line) or fingerprint (SHA256:…)", i, o.Name)
		case o.Fingerprint != "" && !strings.HasPrefix(o.Fingerprint, "SHA256:"):
			return fmt.Errorf("operators[%d] (%s): fingerprint %q: use the SHA256:… form ssh-keygen -lf prints", i, o.Name, o.Fingerprint)
		case len(o.Stages) == 0:
			return fmt.Errorf("operators[%d] (%s): stages is empty: list the stages they may sync and roll back", i, o.Name)
		}
		for _, st := range o.Stages {
			if _, ok := c.StageByName(st); !ok {
				return fmt.Errorf("operators[%d] (%s): no stage %q: stages are %s", i, o.Name, st, strings.Join(c.StageNames(), ", "))
			}
		}
	}
	c.Serve.IdleTimeout = 15 * time.Minute
	if c.Serve.Idle != "" {
		d, err := time.ParseDuration(c.Serve.Idle)
		if err != nil || d <= 0 {
			return fmt.Errorf("serve.idleTimeout %q is not a positive duration like 15m", c.Serve.Idle)
		}
		c.Serve.IdleTimeout = d
	}
	if c.Serve.MaxSessionsPerKey < 0 {
		return errors.New("serve.maxSessionsPerKey must be positive")
	}
	if c.Serve.MaxSessionsPerKey == 0 {
		c.Serve.MaxSessionsPerKey = 4
	}
	return nil
}

// stageLines returns the source line of each item of the stages list.
func stageLines(src []byte) []int {
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "stages" {
			var out []int
			for _, item := range doc.Content[i+1].Content {
				out = append(out, item.Line)
			}
			return out
		}
	}
	return nil
}
