package tui

import (
	"fmt"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// nameConfirm is the typed confirmation a protected stage asks for.
type nameConfirm struct {
	stage string
	input textinput.Model
}

func newNameConfirm(stage string) nameConfirm {
	in := textinput.New()
	in.Prompt, in.Placeholder = "Type "+stage+" to confirm: ", stage
	in.SetWidth(30)
	return nameConfirm{stage: stage, input: in}
}

// confirmOutcome is what a key did to the confirmation.
type confirmOutcome int

const (
	confirmTyping confirmOutcome = iota
	confirmDone
	confirmCancelled
	confirmWrong
)

// update handles a key: enter with the exact name confirms, esc cancels.
func (c *nameConfirm) update(msg tea.KeyPressMsg) (confirmOutcome, tea.Cmd) {
	switch msg.String() {
	case "esc":
		c.input.Blur()
		c.input.SetValue("")
		return confirmCancelled, nil
	case "enter":
		if c.input.Value() != c.stage {
			return confirmWrong, nil
		}
		c.input.Blur()
		return confirmDone, nil
	}
	var cmd tea.Cmd
	c.input, cmd = c.input.Update(msg)
	return confirmTyping, cmd
}

func (c *nameConfirm) wrongMsg() string { return fmt.Sprintf("type %s exactly to confirm", c.stage) }
