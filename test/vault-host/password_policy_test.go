package main

import (
	"context"
	"strings"
	"testing"
	"unicode"
)

func TestParsePasswordPolicyErrors(t *testing.T) {
	cases := []struct{ policy, want string }{
		{`length = 20 rule`, "unable to decode"},
		{`length = 20
rule "wordlist" { words = "a" }`, "unable to parse rules: unable to parse rule wordlist: unrecognized rule type wordlist"},
		{`length = 0
rule "charset" { charset = "abc" }`, "length must be > 0"},
		{`length = 5
rule "charset" {
  charset = "abc"
  min-chars = 6
}`, "specified rules require at least 6 characters but 5 is specified"},
		{`length = 20
rule "charset" { charset = "" }`, "no charset specified"},
		{`length = "twenty"
rule "charset" { charset = "abc" }`, "failed to decode configuration"},
	}
	for _, c := range cases {
		if _, err := parsePasswordPolicy(c.policy); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("policy %q: error %v, want one containing %q", c.policy, err, c.want)
		}
	}
}

func TestPasswordPolicyGenerate(t *testing.T) {
	policy, err := parsePasswordPolicy(`length = 6
rule "charset" {
  charset = "0123456789"
  min-chars = 5
}
rule "charset" {
  charset = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 1
}`)
	if err != nil {
		t.Fatal(err)
	}
	if !policy.feasible() {
		t.Fatal("a feasible policy was reported impossible")
	}
	for range 50 {
		password, err := policy.generate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		digits, letters := 0, 0
		for _, r := range password {
			switch {
			case unicode.IsDigit(r):
				digits++
			case unicode.IsLower(r):
				letters++
			default:
				t.Fatalf("%q has a character outside the charsets", password)
			}
		}
		if len(password) != 6 || digits < 5 || letters < 1 {
			t.Fatalf("%q breaks the policy", password)
		}
	}
}
