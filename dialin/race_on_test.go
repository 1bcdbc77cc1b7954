//go:build race

package dialin

// raceEnabled: the race detector slows the pure-Go Opus codec about
// twentyfold, beyond real time, so tests that judge audio after the
// real-time bridge skip those checks under -race.
const raceEnabled = true
