package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestResolveUser(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	group := filepath.Join(dir, "group")
	write := func(p, text string) {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(passwd, "root:x:0:0:root:/root:/bin/sh\n"+
		"# a comment\n"+
		"app:x:1000:1001:App:/home/app:/bin/sh\n"+
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")
	write(group, "root:x:0:\n"+
		"wheel:x:10:root,app\n"+
		"app:x:1001:\n"+
		"audio:x:29:app\n"+
		"staff:x:50:\n")

	cases := []struct {
		spec string
		want execUser
	}{
		{"", execUser{0, 0, []uint32{10}, "/root"}},
		{"app", execUser{1000, 1001, []uint32{10, 29}, "/home/app"}},
		{"1000", execUser{1000, 1001, []uint32{10, 29}, "/home/app"}},
		{"nobody", execUser{65534, 65534, []uint32{}, "/nonexistent"}},
		{"4242", execUser{4242, 0, []uint32{}, "/"}},
		{"app:staff", execUser{1000, 50, []uint32{}, "/home/app"}},
		{"1000:1000", execUser{1000, 1000, []uint32{}, "/home/app"}},
		{"4242:4343", execUser{4242, 4343, []uint32{}, "/"}},
	}
	for _, c := range cases {
		got, err := resolveUser(c.spec, passwd, group)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("resolveUser(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
	for _, spec := range []string{"ghost", "app:ghosts", "ghost:0"} {
		_, err := resolveUser(spec, passwd, group)
		if !errors.Is(err, ErrUnknownUser) || errorCode(err) != "ENOENT" {
			t.Errorf("resolveUser(%q) gave %v, want ErrUnknownUser", spec, err)
		}
	}
	// Without the files numeric users still work.
	got, err := resolveUser("5:6", filepath.Join(dir, "none"), filepath.Join(dir, "none"))
	if err != nil || got.uid != 5 || got.gid != 6 {
		t.Errorf("numeric user without files: %+v, %v", got, err)
	}
}
