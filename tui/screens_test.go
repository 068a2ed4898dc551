package tui

// Test access to the screens on the stack.

func (m Model) syncS() *syncScreen {
	s, _ := findScreen[*syncScreen](&m)
	if s == nil {
		return &syncScreen{}
	}
	return s
}

func (m Model) rbS() *rollbackScreen {
	s, _ := findScreen[*rollbackScreen](&m)
	if s == nil {
		return &rollbackScreen{}
	}
	return s
}

func (m Model) diffS() *diffScreen {
	s, _ := findScreen[*diffScreen](&m)
	if s == nil {
		return &diffScreen{}
	}
	return s
}
