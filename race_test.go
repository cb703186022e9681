//go:build race

package beecloud

// raceEnabled skips allocation counts, which the race detector changes.
const raceEnabled = true
