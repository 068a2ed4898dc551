package appstate

import "github.com/stagedeck/stagedeck/sanitize"

// Cleaned is a copy of the app fit for a terminal: the texts Argo CD sent
// (names, statuses, messages, conditions, images) with control characters
// escaped.
func (a App) Cleaned() App {
	a.Name, a.Namespace, a.Project = sanitize.Line(a.Name), sanitize.Line(a.Namespace), sanitize.Line(a.Project)
	a.Sync, a.Health = sanitize.Line(a.Sync), sanitize.Line(a.Health)
	a.Operation = a.Operation.Cleaned()
	a.Conditions = sanitize.Lines(a.Conditions)
	a.Images = sanitize.Lines(a.Images)
	h := make([]Deployed, len(a.History))
	for i, d := range a.History {
		d.Revision, d.InitiatedBy = sanitize.Line(d.Revision), sanitize.Line(d.InitiatedBy)
		h[i] = d
	}
	a.History = h
	return a
}

// Cleaned is a copy of the operation fit for a terminal.
func (o Operation) Cleaned() Operation {
	o.Phase, o.Message, o.Reason = sanitize.Line(o.Phase), sanitize.Line(o.Message), sanitize.Line(o.Reason)
	res := make([]ResourceResult, len(o.Resources))
	for i, r := range o.Resources {
		r.Kind, r.Namespace, r.Name = sanitize.Line(r.Kind), sanitize.Line(r.Namespace), sanitize.Line(r.Name)
		r.Status, r.Message, r.HookPhase = sanitize.Line(r.Status), sanitize.Line(r.Message), sanitize.Line(r.HookPhase)
		res[i] = r
	}
	o.Resources = res
	return o
}
