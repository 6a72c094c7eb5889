package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openbao/openbao/sdk/v2/helper/consts"
)

func TestSplitCommand(t *testing.T) {
	cases := []struct {
		command  string
		args     []string
		wantFile string
		wantArgs []string
		wantErr  error
	}{
		{"plugin", nil, "plugin", nil, nil},
		{"plugin", []string{"-a"}, "plugin", []string{"-a"}, nil},
		{"plugin -a -b", nil, "plugin", []string{"-a", "-b"}, nil},
		{"plugin  -a", nil, "plugin", []string{"", "-a"}, nil},
		{"plugin -a", []string{"-b"}, "", nil, errArgsTwice},
	}
	for _, c := range cases {
		file, args, err := splitCommand(c.command, c.args)
		if !errors.Is(err, c.wantErr) || file != c.wantFile || !reflect.DeepEqual(args, c.wantArgs) {
			t.Errorf("splitCommand(%q, %q) = %q, %q, %v; want %q, %q, %v", c.command, c.args, file, args, err, c.wantFile, c.wantArgs, c.wantErr)
		}
	}
}

func TestCheckNoParentReferences(t *testing.T) {
	for _, c := range []struct{ name, command string }{{"..x", "plugin"}, {"x", "../plugin"}, {"x", "a..b"}} {
		if err := checkNoParentReferences(c.name, c.command); !errors.Is(err, consts.ErrPathContainsParentReferences) {
			t.Errorf("checkNoParentReferences(%q, %q) = %v", c.name, c.command, err)
		}
	}
	if err := checkNoParentReferences("x", "plugin"); err != nil {
		t.Errorf("a plain name was refused: %v", err)
	}
}

func TestCheckCommandInDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plugins")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{dir, filepath.Join(dir, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(dir, "plugin"), filepath.Join(dir, "sub", "plugin"), filepath.Join(outside, "evil")} {
		if err := os.WriteFile(f, []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustSymlink(t, filepath.Join(dir, "plugin"), filepath.Join(dir, "alias"))
	mustSymlink(t, filepath.Join(outside, "evil"), filepath.Join(dir, "escape"))
	linkedDir := filepath.Join(root, "linked-plugins")
	mustSymlink(t, dir, linkedDir)

	cases := []struct {
		dir, command string
		want         string // "" = accepted, else an error substring
	}{
		{dir, "plugin", ""},
		{dir, "alias", ""},
		{dir, "sub/plugin", errOutsidePluginDirectory.Error()},
		{dir, "escape", errOutsidePluginDirectory.Error()},
		{dir, "missing", "error while validating the command path"},
		{linkedDir, "plugin", errOutsidePluginDirectory.Error()},
	}
	for _, c := range cases {
		err := checkCommandInDirectory(c.dir, c.command)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s in %s: refused: %v", c.command, c.dir, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s in %s: got %v, want an error containing %q", c.command, c.dir, err, c.want)
		}
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestCanonicalVersion(t *testing.T) {
	cases := []struct {
		in, want string
		builtin  bool
		wantErr  string
	}{
		{"", "", false, ""},
		{"1.2.3", "v1.2.3", false, ""},
		{"v1.2.3", "v1.2.3", false, ""},
		{"1.2", "v1.2.0", false, ""},
		{"v0.1.0-test", "v0.1.0-test", false, ""},
		{"1.0.0+builtin", "v1.0.0+builtin", true, ""},
		{"one", "", false, `version "one" is not a valid semantic version`},
	}
	for _, c := range cases {
		got, builtin, err := canonicalVersion(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("canonicalVersion(%q) error = %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want || builtin != c.builtin {
			t.Errorf("canonicalVersion(%q) = %q, %v, %v; want %q, %v", c.in, got, builtin, err, c.want, c.builtin)
		}
	}
}
