//go:build linux

package adminsock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// checkPeer asks the kernel who is on the other end (SO_PEERCRED) and
// refuses users other than the server's own and root: defence in depth
// should the socket's file mode be loosened.
func checkPeer(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return errors.New("not a Unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("reading peer credentials: %w", credErr)
	}
	if !peerAllowed(cred.Uid, uint32(os.Getuid())) {
		return fmt.Errorf("peer uid %d (pid %d) is neither the server's user nor root", cred.Uid, cred.Pid)
	}
	return nil
}
