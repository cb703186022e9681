//go:build !unix

package beecloud_test

import "time"

// processCPU is not measured on this platform.
func processCPU() time.Duration { return 0 }
