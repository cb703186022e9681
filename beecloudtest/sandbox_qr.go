package beecloudtest

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// qrSVG draws a QR-code-like picture for the bill id: the three finder
// squares, the timing lines, and modules taken from the SHA-256 of id. It
// is not a scannable code; it only looks like the one a QR channel shows.
func qrSVG(id string) string {
	const n, quiet = 25, 3
	dark := func(x, y int) bool {
		for _, c := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
			dx, dy := x-c[0], y-c[1]
			if dx >= -1 && dx <= 7 && dy >= -1 && dy <= 7 {
				if dx < 0 || dy < 0 || dx > 6 || dy > 6 {
					return false // the separator around a finder
				}
				ring := min(dx, dy, 6-dx, 6-dy)
				return ring != 1
			}
		}
		if x == 6 || y == 6 {
			return (x+y)%2 == 0
		}
		seed := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", id, y)))
		return seed[x]&1 == 1
	}
	var path strings.Builder
	for y := range n {
		for x := range n {
			if dark(x, y) {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	size := n + 2*quiet
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#111" d="%s"/></svg>`,
		size, size, size*8, size*8, size, size, path.String())
}
