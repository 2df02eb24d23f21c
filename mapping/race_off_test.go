//go:build !race

package mapping

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
