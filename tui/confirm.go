package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// Components shared by the screens that act: the typed confirmation of
// protected stages and the reason input.

// nameConfirm is the typed confirmation protected stages ask for: each
// protected stage an action touches, one after the other, by its name.
type nameConfirm struct {
	stages []string
	at     int
	input  textinput.Model
}

func newNameConfirm(stages ...string) nameConfirm {
	c := nameConfirm{stages: stages}
	c.reset()
	return c
}

// needed reports whether anything must be typed at all.
func (c *nameConfirm) needed() bool { return len(c.stages) > 0 }

// stage is the name to type now.
func (c *nameConfirm) stage() string {
	if c.at < len(c.stages) {
		return c.stages[c.at]
	}
	return ""
}

func (c *nameConfirm) reset() {
	in := textinput.New()
	prompt := "Type " + c.stage() + " to confirm: "
	if len(c.stages) > 1 {
		prompt = fmt.Sprintf("Type %s to confirm (%d of %d): ", c.stage(), c.at+1, len(c.stages))
	}
	in.Prompt, in.Placeholder = prompt, c.stage()
	in.SetWidth(30)
	c.input = in
}

// confirmOutcome is what a key did to the confirmation.
type confirmOutcome int

const (
	confirmTyping confirmOutcome = iota
	confirmDone
	confirmCancelled
	confirmWrong
)

// update handles a key: enter with the exact name moves to the next stage
// (or confirms after the last), esc cancels and starts over.
func (c *nameConfirm) update(msg tea.KeyPressMsg) (confirmOutcome, tea.Cmd) {
	switch msg.String() {
	case "esc":
		c.at = 0
		c.reset()
		return confirmCancelled, nil
	case "enter":
		if c.input.Value() != c.stage() {
			return confirmWrong, nil
		}
		c.input.Blur()
		if c.at+1 < len(c.stages) {
			c.at++
			c.reset()
			return confirmTyping, c.input.Focus()
		}
		return confirmDone, nil
	}
	var cmd tea.Cmd
	c.input, cmd = c.input.Update(msg)
	return confirmTyping, cmd
}

func (c *nameConfirm) wrongMsg() string { return fmt.Sprintf("type %s exactly to confirm", c.stage()) }

// reasonInput is the reason an action is sent with: one line edited in
// place. A rollback's is required (it goes into the commit); a sync's is
// optional.
type reasonInput struct {
	input    textinput.Model
	required bool
}

func newReasonInput(prompt, placeholder string, required bool) reasonInput {
	in := textinput.New()
	in.Prompt, in.Placeholder, in.CharLimit = prompt, placeholder, 200
	in.SetWidth(60)
	return reasonInput{input: in, required: required}
}

// value is the reason as sent: trimmed.
func (r *reasonInput) value() string { return strings.TrimSpace(r.input.Value()) }

func (r *reasonInput) set(v string) { r.input.SetValue(v) }

func (r *reasonInput) focus() tea.Cmd { return r.input.Focus() }

func (r *reasonInput) view() string { return r.input.View() }

// update handles a key: enter ends the edit (confirmWrong when a required
// reason is empty), esc cancels it.
func (r *reasonInput) update(msg tea.KeyPressMsg) (confirmOutcome, tea.Cmd) {
	switch msg.String() {
	case "esc":
		r.input.Blur()
		return confirmCancelled, nil
	case "enter":
		if r.required && r.value() == "" {
			return confirmWrong, nil
		}
		r.input.Blur()
		return confirmDone, nil
	}
	var cmd tea.Cmd
	r.input, cmd = r.input.Update(msg)
	return confirmTyping, cmd
}
