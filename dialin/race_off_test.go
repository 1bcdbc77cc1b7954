//go:build !race

package dialin

const raceEnabled = false
