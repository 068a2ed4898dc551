//go:build !unix

package opsrepo

import "os"

// mapFile reads the file: no mmap on this platform.
func mapFile(path string, _ int64) ([]byte, func(), error) {
	data, err := os.ReadFile(path)
	return data, func() {}, err
}
