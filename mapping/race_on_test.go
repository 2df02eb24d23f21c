//go:build race

package mapping

// raceEnabled is true when the tests run under the race detector, which
// makes the phone library ten times slower: long equivalence sweeps shrink.
const raceEnabled = true
