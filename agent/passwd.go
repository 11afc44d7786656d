package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// passwdFile is read directly: the agent is static and has no NSS.
const passwdFile = "/etc/passwd"

type passwdEntry struct {
	gid  uint32
	home string
}

// lookupUser finds uid in /etc/passwd. A missing file or entry is not an
// error: numeric users need no entry.
func lookupUser(uid uint32) (passwdEntry, bool) {
	f, err := os.Open(passwdFile)
	if err != nil {
		return passwdEntry{}, false
	}
	defer f.Close()
	want := strconv.FormatUint(uint64(uid), 10)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// name:password:uid:gid:gecos:home:shell
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 7 || fields[2] != want {
			continue
		}
		gid, err := strconv.ParseUint(fields[3], 10, 32)
		if err != nil {
			continue
		}
		return passwdEntry{gid: uint32(gid), home: fields[5]}, true
	}
	return passwdEntry{}, false
}
