//go:build !race

package beecloud

const raceEnabled = false
