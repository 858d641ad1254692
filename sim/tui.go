package sim

import (
	"context"
	"io"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"golang.org/x/term"
)

// isTerminal says whether w is a terminal: the live view is the default
// there, plain progress lines elsewhere (CI logs stay readable).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// liveView is the bubbletea model of the live terminal view: it shows
// the latest snapshot (RenderView) until the run ends.
type liveView struct {
	snap     Snapshot
	renderer *lipgloss.Renderer
	stop     context.CancelFunc // ends the run early ("q")
	stopping bool
	width    int
}

// viewDone ends the view: the run is over.
type viewDone struct{}

func (m *liveView) Init() tea.Cmd { return nil }

func (m *liveView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Snapshot:
		m.snap = msg
	case viewDone:
		return m, tea.Quit
	case tea.WindowSizeMsg:
		m.width = msg.Width
	case tea.KeyMsg:
		switch msg.String() {
		case "q", "ctrl+c", "esc":
			// Stop placing calls; the view stays until the run returns.
			m.stopping = true
			m.stop()
		}
	}
	return m, nil
}

func (m *liveView) View() string {
	v := RenderView(m.snap, m.renderer)
	switch {
	case m.stopping:
		v += "\nstopping the run…"
	case m.snap.Reconciling:
		v += "\ncalls ended: reconciling with Hotline's reports…"
	}
	return v + "\n"
}

// startView runs the live view on out until stop is called; send feeds it
// snapshots. cancel is what "q" calls.
func startView(out io.Writer, cancel context.CancelFunc) (send func(Snapshot), stop func()) {
	m := &liveView{renderer: lipgloss.NewRenderer(out), stop: cancel}
	opts := []tea.ProgramOption{tea.WithOutput(out)}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		opts = append(opts, tea.WithInput(nil))
	}
	p := tea.NewProgram(m, opts...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = p.Run()
	}()
	return func(s Snapshot) { p.Send(s) }, func() { p.Send(viewDone{}); <-done }
}
