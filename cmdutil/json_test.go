package cmdutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/sanitize"
)

// WriteJSON writes exactly what json.MarshalIndent, sanitize.JSON and a
// newline wrote before it: -o json is a format scripts read.
func TestWriteJSONIsMarshalIndents(t *testing.T) {
	type app struct {
		Name    string            `json:"name"`
		Labels  map[string]string `json:"labels"`
		Empty   []string          `json:"empty"`
		Nil     []string          `json:"nil"`
		Object  struct{}          `json:"object"`
		At      time.Time         `json:"at"`
		Pending int               `json:"pendingCommits"`
		Ptr     *app              `json:"ptr,omitempty"`
	}
	values := []any{
		nil, true, 3.25, "", []int{}, map[string]int{}, []any{[]any{}, map[string]any{}, []any{[]int{1}}},
		`quote " backslash \ brackets {}[] , : done`, `\"`, `\\`, "tail \\",
		"<html> & ünïcödé \u2028 \x1b[31mred\x1b[0m \u009b C1 \u202e bidi \x7f",
		app{Name: "web", Labels: map[string]string{"a": "{[,:]}", `"k"`: `v\`}, Empty: []string{}, At: time.Unix(1_790_000_000, 0).UTC(),
			Ptr: &app{Name: "nested", Pending: 2}},
	}
	r := rand.New(rand.NewSource(1))
	for range 2_000 {
		values = append(values, randomJSON(r, 4))
	}
	for _, v := range values {
		want, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(sanitize.JSON(want), '\n')
		var got bytes.Buffer
		if err := WriteJSON(&got, v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("WriteJSON(%#v):\n%s\nwant\n%s", v, got.Bytes(), want)
		}
	}
}

// randomJSON is a random value of encoding/json's kinds, depth deep at most,
// its strings made of JSON's structural and escaped characters.
func randomJSON(r *rand.Rand, depth int) any {
	kind := r.Intn(7)
	if depth == 0 {
		kind = r.Intn(4)
	}
	switch kind {
	case 0:
		return nil
	case 1:
		return r.Intn(2) == 0
	case 2:
		return r.NormFloat64() * 1e6
	case 3:
		const alphabet = `ab"\{}[],: ` + "\n\t\x00\x1b<>&é\u2028\u0085"
		var b strings.Builder
		for range r.Intn(12) {
			b.WriteString(string([]rune(alphabet)[r.Intn(len([]rune(alphabet)))]))
		}
		return b.String()
	case 4, 5:
		xs := make([]any, r.Intn(4))
		for i := range xs {
			xs[i] = randomJSON(r, depth-1)
		}
		return xs
	default:
		m := map[string]any{}
		for i := range r.Intn(4) {
			m[fmt.Sprint("k", i, randomJSON(r, 0))] = randomJSON(r, depth-1)
		}
		return m
	}
}

// BenchmarkWriteJSON is status -o json's output at fleet scale: a board of
// 2,000 apps, each with its head commit and a deploy history of three,
// against encoding/json's own indentation.
func BenchmarkWriteJSON(b *testing.B) {
	at := time.Unix(1_790_000_000, 0).UTC()
	st := board.Stage{Name: "bench", Path: "bench"}
	for i := range 2_000 {
		sha := fmt.Sprintf("%040x", i)
		a := board.App{Name: fmt.Sprintf("bench-%04d", i), Project: "default", Path: fmt.Sprintf("bench/app-%04d", i),
			Head:       &gitstate.Commit{SHA: sha, Author: "Ann Example", Date: at, Subject: "bench: bump the web app's image to 1.2.3"},
			SyncStatus: "Synced", HealthStatus: "Healthy", DeployedRevision: sha, ComparedRevision: sha, TargetRevision: "main",
			OperationPhase: "Succeeded", Images: []string{"registry.example.com/web:1.2.3"}}
		for j := range 3 {
			a.History = append(a.History, board.Deployed{ID: int64(j), Revision: sha, DeployedAt: at, InitiatedBy: "admin"})
		}
		st.Apps = append(st.Apps, a)
	}
	bd := &board.Board{Stages: []board.Stage{st}}
	b.Run("MarshalIndent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.MarshalIndent(bd, "", "  ")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Discard.Write(append(sanitize.JSON(data), '\n'))
		}
	})
	b.Run("WriteJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := WriteJSON(io.Discard, bd); err != nil {
				b.Fatal(err)
			}
		}
	})
}
