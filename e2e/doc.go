// Package e2e holds the end-to-end flows that drive the real stagedeck
// binary in a pseudo-terminal against the --demo sandbox; e2e/realargo runs
// flows against a real Argo CD.
package e2e
