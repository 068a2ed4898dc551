package board

import (
	"strings"
	"testing"
)

// TestUndeployedNamesWhatItCannotList: an app never deployed, or running a
// revision outside the branch's history, has commits a sync would ship
// that no pending list names: Undeployed says so instead of nothing.
func TestUndeployedNamesWhatItCannotList(t *testing.T) {
	apps := []App{
		{Name: "tst-api", DeployedRevision: strings.Repeat("a", 40)},
		{Name: "tst-web"},
		{Name: "tst-worker", DeployedRevision: strings.Repeat("b", 40), NotAncestor: true},
	}
	got := strings.Join(Undeployed(apps), "\n")
	if strings.Contains(got, "tst-api") || !strings.Contains(got, "tst-web never deployed") || !strings.Contains(got, "tst-worker runs bbbbbbb, which is not in the branch's history") {
		t.Errorf("Undeployed = %q", got)
	}
}
