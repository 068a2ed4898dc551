// Package noi18n stops kubectl's help-text translations from loading.
// argo-cd links kubectl's command packages, whose package variables call
// i18n.T, and the first call parses every embedded translation catalogue:
// about 25 ms and 4 MB at every start of stagedeck, which never shows
// kubectl's help. kubectl provides SetLoadTranslationsFunc for this; it must
// run before those packages initialise, which Go's initialisation order
// gives a package that imports only i18n (it is ready as soon as i18n is,
// and sorts before k8s.io/kubectl/...). If a package earlier in that order
// loads them anyway, nothing breaks: they are loaded as before.
package noi18n

import "k8s.io/kubectl/pkg/util/i18n"

func init() {
	_ = i18n.SetLoadTranslationsFunc(func() error { return nil })
}
