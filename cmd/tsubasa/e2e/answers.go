package e2e

import (
	"net/http"
	"sync"
)

// answerScript is what a test's receiver (a relying party's back-channel
// logout endpoint, a webhook receiver) answers: the statuses it was told,
// in order, then 200; and every answer held until released, as a slow or
// hanging server would. Call init before the first request.
type answerScript struct {
	mu       sync.Mutex
	statuses []int
	hold     chan struct{} // closed: answer at once
}

func (a *answerScript) init() {
	a.hold = make(chan struct{})
	close(a.hold)
}

// next is the status of the next answer and what it waits for.
func (a *answerScript) next() (int, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	status := http.StatusOK
	if len(a.statuses) > 0 {
		status, a.statuses = a.statuses[0], a.statuses[1:]
	}
	return status, a.hold
}

// Answer makes the next requests get these statuses, in order.
func (a *answerScript) Answer(statuses ...int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statuses = append(a.statuses, statuses...)
}

// Hold makes every answer wait until Release.
func (a *answerScript) Hold() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hold = make(chan struct{})
}

// Release lets held answers go.
func (a *answerScript) Release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-a.hold:
	default:
		close(a.hold)
	}
}
