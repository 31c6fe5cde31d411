//go:build !linux

package directory

import "syscall"

// setUserTimeout does nothing where TCP_USER_TIMEOUT does not exist; the
// keepalives of dial.go still end a silent connection.
func setUserTimeout(string, string, syscall.RawConn) error { return nil }
