package amd64

// SetChunk sets the budget chunk size for the external tests and returns a
// function that restores it. Tests that call it must not run in parallel.
func SetChunk(n uint64) (restore func()) {
	old := chunk
	chunk = n
	return func() { chunk = old }
}
