package main

// Password policies: parsing an HCL policy and generating passwords from it,
// with the behaviour of OpenBao's helper/random (parser.go, rules.go,
// string_generator.go). That package lives in the server module, which
// cannot be imported, so this is the project's own code; it decodes with the
// same libraries (HCL v1 in Vault's fork, go-viper/mapstructure v2), so
// decoding errors read the same.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-viper/mapstructure/v2"
	"github.com/hashicorp/go-multierror"
	"github.com/hashicorp/hcl"
)

const (
	// A charset may hold at most 256 runes: one random byte picks a rune.
	maxCharsetLen = 256
	// generateTimeout bounds generation when the caller set no deadline.
	generateTimeout = time.Second
)

// charsetRule requires at least MinChars runes of the password to come from
// Charset.
type charsetRule struct {
	Charset  []rune `mapstructure:"charset"`
	MinChars int    `mapstructure:"min-chars"`
}

func (r charsetRule) pass(value []rune) bool {
	if r.MinChars <= 0 {
		return true
	}
	count := 0
	for _, c := range value {
		if slices.Contains(r.Charset, c) {
			count++
			if count >= r.MinChars {
				return true
			}
		}
	}
	return false
}

// passwordPolicy is a parsed policy.
type passwordPolicy struct {
	Length int `mapstructure:"length"`
	rules  []charsetRule
	// charset is the de-duplicated union of the rules' charsets.
	charset []rune
}

// runeDecodeHook turns an HCL string into a []rune field.
func runeDecodeHook(from, to reflect.Kind, data any) (any, error) {
	if from != reflect.String || to != reflect.Slice {
		return data, nil
	}
	raw := data.(string)
	if !utf8.ValidString(raw) {
		return nil, errors.New("invalid UTF8 string")
	}
	return []rune(raw), nil
}

func decodeWithRunes(input any, out any) error {
	decoder, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{Result: out, DecodeHook: runeDecodeHook})
	if err != nil {
		return err
	}
	return decoder.Decode(input)
}

// parsePasswordPolicy parses and validates an HCL policy:
// `length = N` and `rule "charset" { charset = "..." min-chars = N }` blocks.
func parsePasswordPolicy(raw string) (*passwordPolicy, error) {
	data := map[string]any{}
	if err := hcl.Decode(&data, raw); err != nil {
		return nil, fmt.Errorf("unable to decode: %w", err)
	}
	policy := &passwordPolicy{}
	if err := decodeWithRunes(data, policy); err != nil {
		return nil, fmt.Errorf("failed to decode configuration: %w", err)
	}
	rawRules, err := mapSlice(data, "rule")
	if err != nil {
		return nil, fmt.Errorf("unable to retrieve rules: %w", err)
	}
	for _, rawRule := range rawRules {
		rule, err := parseRule(rawRule)
		if err != nil {
			return nil, fmt.Errorf("unable to parse rules: %w", err)
		}
		policy.rules = append(policy.rules, rule)
	}
	if err := policy.validate(); err != nil {
		return nil, err
	}
	return policy, nil
}

// mapSlice decodes data[key] (absent is fine) into a list of blocks.
func mapSlice(data map[string]any, key string) ([]map[string]any, error) {
	raw, ok := data[key]
	if !ok {
		return nil, nil
	}
	out := []map[string]any{}
	if err := mapstructure.Decode(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// parseRule reads one `rule "<type>" {...}` block; only the charset type
// exists.
func parseRule(block map[string]any) (charsetRule, error) {
	for ruleType := range block {
		bodies, err := mapSlice(block, ruleType)
		if err != nil {
			return charsetRule{}, fmt.Errorf("unable to get rule info: unable to get rule data: %w", err)
		}
		if len(bodies) == 0 {
			return charsetRule{}, errors.New("unable to get rule info: rule info cannot be empty")
		}
		if ruleType != "charset" {
			return charsetRule{}, fmt.Errorf("unable to parse rule %s: unrecognized rule type %s", ruleType, ruleType)
		}
		rule := charsetRule{}
		if err := decodeWithRunes(bodies[0], &rule); err != nil {
			return charsetRule{}, fmt.Errorf("unable to parse rule %s: failed to parse charset restriction: %w", ruleType, err)
		}
		return rule, nil
	}
	return charsetRule{}, errors.New("unable to get rule info: rule is empty")
}

// validate checks the length against the rules and builds the charset.
func (p *passwordPolicy) validate() error {
	merr := &multierror.Error{}
	minLength := 0
	for _, r := range p.rules {
		minLength += r.MinChars
	}
	if p.Length <= 0 {
		merr = multierror.Append(merr, errors.New("length must be > 0"))
	} else if p.Length < minLength {
		merr = multierror.Append(merr, fmt.Errorf("specified rules require at least %d characters but %d is specified", minLength, p.Length))
	}
	p.charset = nil
	for _, r := range p.rules {
		for _, c := range r.Charset {
			if !slices.Contains(p.charset, c) {
				p.charset = append(p.charset, c)
			}
		}
	}
	if len(p.charset) == 0 {
		merr = multierror.Append(merr, errors.New("no charset specified"))
	} else if slices.ContainsFunc(p.charset, func(c rune) bool { return !unicode.IsPrint(c) }) {
		merr = multierror.Append(merr, errors.New("non-printable character in charset"))
	}
	return merr.ErrorOrNil()
}

// generate draws candidates until one passes every rule. Without a deadline
// on ctx it gives up after generateTimeout.
func (p *passwordPolicy) generate(ctx context.Context) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, generateTimeout)
		defer cancel()
	}
	if err := p.validate(); err != nil {
		return "", err
	}
	for {
		if ctx.Err() != nil {
			return "", errors.New("timed out generating string")
		}
		candidate, err := randomRunes(rand.Reader, p.charset, p.Length)
		if err != nil {
			return "", fmt.Errorf("unable to generate random characters: %w", err)
		}
		if !slices.ContainsFunc(p.rules, func(r charsetRule) bool { return !r.pass(candidate) }) {
			return string(candidate), nil
		}
	}
}

// randomRunes picks length runes uniformly from charset, one random byte per
// rune; bytes above the largest multiple of the charset size are dropped so
// there is no modulo bias.
func randomRunes(rng io.Reader, charset []rune, length int) ([]rune, error) {
	switch {
	case len(charset) == 0:
		return nil, errors.New("no charset specified")
	case len(charset) > maxCharsetLen:
		return nil, fmt.Errorf("charset is too long: limited to %d characters", math.MaxUint8)
	case length <= 0:
		return nil, errors.New("unable to generate a zero or negative length runeset")
	}
	maxAllowed := (maxCharsetLen/len(charset))*len(charset) - 1
	bufferFactor := 1.0
	if maxAllowed < maxCharsetLen {
		bufferFactor = 1.5
	}
	out := make([]rune, 0, length)
	for len(out) < length {
		buf := make([]byte, int(float64(length)*bufferFactor))
		n, err := rng.Read(buf)
		if err != nil {
			return nil, err
		}
		for _, b := range buf[:n] {
			if int(b) > maxAllowed {
				continue
			}
			out = append(out, charset[int(b)%len(charset)])
			if len(out) == length {
				break
			}
		}
	}
	return out, nil
}
