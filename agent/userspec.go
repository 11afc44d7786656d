package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// groupFile is read directly, like passwdFile: the agent has no NSS.
const groupFile = "/etc/group"

// ErrUnknownUser reports a user or group name the image does not define;
// its ERROR code is ENOENT.
var ErrUnknownUser = errors.New("no such user or group in the image")

// execUser is who a workload runs as.
type execUser struct {
	uid, gid uint32
	groups   []uint32
	home     string
}

// resolveUser reads a `docker run --user` value: "name", "uid",
// "name:group" or "uid:gid", with names looked up in the image's files.
// As in Docker, a user found in passwd gets its primary group from there
// and its supplementary groups from the group file unless a group is
// given; a numeric uid absent from passwd gets gid 0 and no groups.
func resolveUser(spec, passwdPath, groupPath string) (execUser, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "0"
	}
	u := execUser{home: "/"}
	users, _ := readColonFile(passwdPath, 7)
	uid, numeric := parseID(userPart)
	name := ""
	found := false
	for _, f := range users {
		id, ok := parseID(f[2])
		if !ok || (numeric && id != uid) || (!numeric && f[0] != userPart) {
			continue
		}
		gid, ok := parseID(f[3])
		if !ok {
			continue
		}
		u.uid, u.gid, u.home, name, found = id, gid, f[5], f[0], true
		break
	}
	if !found {
		if !numeric {
			return u, fmt.Errorf("failed to find user %q in %s: %w", userPart,
				passwdPath, ErrUnknownUser)
		}
		u.uid = uid
	}

	groups, _ := readColonFile(groupPath, 4)
	if hasGroup {
		gid, err := resolveGroup(groupPart, groups, groupPath)
		if err != nil {
			return u, err
		}
		u.gid = gid
		u.groups = []uint32{}
		return u, nil
	}
	u.groups = []uint32{}
	if !found {
		return u, nil
	}
	for _, f := range groups {
		gid, ok := parseID(f[2])
		if !ok {
			continue
		}
		for _, member := range strings.Split(f[3], ",") {
			if member == name {
				u.groups = append(u.groups, gid)
				break
			}
		}
	}
	return u, nil
}

func resolveGroup(spec string, groups [][]string, groupPath string) (uint32, error) {
	if gid, ok := parseID(spec); ok {
		return gid, nil
	}
	for _, f := range groups {
		if f[0] == spec {
			if gid, ok := parseID(f[2]); ok {
				return gid, nil
			}
		}
	}
	return 0, fmt.Errorf("failed to find group %q in %s: %w", spec, groupPath,
		ErrUnknownUser)
}

func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// readColonFile reads a passwd-style file, keeping lines with at least
// fields fields. A missing file has no entries: images without
// /etc/passwd still run as numeric users.
func readColonFile(path string, fields int) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) >= fields {
			out = append(out, parts)
		}
	}
	return out, sc.Err()
}
