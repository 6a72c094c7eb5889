package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseJSONBodyMemoryLimit checks the memory estimate at its boundary:
// {"k":[null, ...]} costs 88 for the object, 33 for the key, 40 for the
// array and 17 per null, closing delimiters nothing.
func TestParseJSONBodyMemoryLimit(t *testing.T) {
	body := func(nulls int) []byte {
		return []byte(`{"k":[` + strings.TrimSuffix(strings.Repeat("null,", nulls), ",") + `]}`)
	}
	fitting := (maxJSONMemory - 88 - 33 - 40) / 17
	if _, err := parseJSONBody(body(fitting)); err != nil {
		t.Errorf("%d nulls: %v, want accepted", fitting, err)
	}
	_, err := parseJSONBody(body(fitting + 1))
	if !errors.Is(err, errJSONExceededMemory) || err.Error() != "refused JSON input due to high complexity: exceeded maximum estimated memory limits" {
		t.Errorf("%d nulls: %v, want the memory limit error", fitting+1, err)
	}
}

func TestParseJSONBody(t *testing.T) {
	cases := []struct {
		body, data, err string
	}{
		{"", "map[]", ""},
		{" \n", "map[]", ""},
		{`{"n":12345678901234567890}`, "map[n:12345678901234567890]", ""},
		{`{"a":1} {"b":2}`, "map[a:1]", ""}, // only the first value is decoded
		{`{"a":1`, "", "failed to decode JSON input: unexpected EOF"},
		{`{"a":1}}`, "", "failed to decode JSON input: invalid character '}' looking for beginning of value"},
		{`{"a" 1}`, "", "failed to decode JSON input: invalid character '1' after object key"},
	}
	for _, c := range cases {
		data, err := parseJSONBody([]byte(c.body))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.err || (err == nil && fmt.Sprint(data) != c.data) {
			t.Errorf("%q: data %v, error %q; want %s, error %q", c.body, data, got, c.data, c.err)
		}
	}
}
