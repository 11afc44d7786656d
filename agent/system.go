package main

import "syscall"

// systemInfo is what HELLO_ACK says about the guest.
type systemInfo struct {
	kernel string
	arch   string
}

func readSystemInfo() systemInfo {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return systemInfo{}
	}
	return systemInfo{kernel: cString(u.Release[:]), arch: cString(u.Machine[:])}
}

// cString reads a NUL-terminated utsname field, whose element type is int8
// or uint8 depending on the architecture.
func cString[T int8 | uint8](field []T) string {
	b := make([]byte, 0, len(field))
	for _, c := range field {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
