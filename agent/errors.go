package main

import (
	"errors"
	"os"
	"syscall"
)

var (
	// ErrInvalidRequest reports an OPEN or CONTROL whose JSON is well
	// formed but asks for something impossible.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrCanceled ends a stream the host cancelled.
	ErrCanceled = errors.New("operation canceled")
	// ErrProtocol reports a frame the protocol does not allow here.
	ErrProtocol = errors.New("protocol misuse")
	// ErrNoHello reports an OPEN before a HELLO the agent understood.
	ErrNoHello = errors.New("no HELLO of protocol version 1 on this connection")
)

// errnoNames are the codes an ERROR frame can carry: errno names where one
// fits (docs/protocol.md, "Errors"). The table is explicit because the Go
// standard library exposes errno messages but not their names.
var errnoNames = map[syscall.Errno]string{
	syscall.E2BIG:         "E2BIG",
	syscall.EACCES:        "EACCES",
	syscall.EADDRINUSE:    "EADDRINUSE",
	syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL",
	syscall.EAFNOSUPPORT:  "EAFNOSUPPORT",
	syscall.EAGAIN:        "EAGAIN",
	syscall.EBADF:         "EBADF",
	syscall.EBUSY:         "EBUSY",
	syscall.ECONNABORTED:  "ECONNABORTED",
	syscall.ECONNREFUSED:  "ECONNREFUSED",
	syscall.ECONNRESET:    "ECONNRESET",
	syscall.EDQUOT:        "EDQUOT",
	syscall.EEXIST:        "EEXIST",
	syscall.EFBIG:         "EFBIG",
	syscall.EHOSTUNREACH:  "EHOSTUNREACH",
	syscall.EINVAL:        "EINVAL",
	syscall.EIO:           "EIO",
	syscall.EISDIR:        "EISDIR",
	syscall.ELOOP:         "ELOOP",
	syscall.EMFILE:        "EMFILE",
	syscall.ENAMETOOLONG:  "ENAMETOOLONG",
	syscall.ENETUNREACH:   "ENETUNREACH",
	syscall.ENFILE:        "ENFILE",
	syscall.ENODEV:        "ENODEV",
	syscall.ENOENT:        "ENOENT",
	syscall.ENOEXEC:       "ENOEXEC",
	syscall.ENOMEM:        "ENOMEM",
	syscall.ENOSPC:        "ENOSPC",
	syscall.ENOTBLK:       "ENOTBLK",
	syscall.ENOTDIR:       "ENOTDIR",
	syscall.ENOTEMPTY:     "ENOTEMPTY",
	syscall.ENOTSUP:       "ENOTSUP",
	syscall.ENXIO:         "ENXIO",
	syscall.EPERM:         "EPERM",
	syscall.EPIPE:         "EPIPE",
	syscall.EROFS:         "EROFS",
	syscall.ESRCH:         "ESRCH",
	syscall.ETIMEDOUT:     "ETIMEDOUT",
	syscall.ETXTBSY:       "ETXTBSY",
	syscall.EXDEV:         "EXDEV",
}

// errorCode maps an error to the code of an ERROR frame.
func errorCode(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, ErrCanceled):
		return "ECANCELED"
	case errors.Is(err, ErrInvalidRequest):
		return "EINVAL"
	case errors.Is(err, ErrNoHello), errors.Is(err, ErrProtocol):
		return "EPROTO"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "ETIMEDOUT"
	case errors.Is(err, ErrUnsupportedMediaType):
		return "ENOTSUP"
	case errors.Is(err, ErrUnknownUser):
		return "ENOENT"
	case errors.Is(err, ErrWorkloadStarted):
		return "EBUSY"
	case errors.Is(err, ErrNoWorkload):
		return "ESRCH"
	case errors.As(err, &errno):
		if name, ok := errnoNames[errno]; ok {
			return name
		}
	}
	return "EIO"
}
