package main

import (
	"testing"

	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/helper/pluginutil"
)

func TestSelectPluginVersion(t *testing.T) {
	entries := func(versions ...string) map[catalogKey]*pluginutil.PluginRunner {
		out := map[catalogKey]*pluginutil.PluginRunner{}
		for _, v := range versions {
			out[catalogKey{consts.PluginTypeSecrets, "pg", v}] = &pluginutil.PluginRunner{Name: "pg", Type: consts.PluginTypeSecrets, Version: v}
		}
		return out
	}
	cases := []struct {
		versions []string
		want     string
	}{
		{nil, ""},
		{[]string{"v0.9.0", "v0.10.0", "v0.2.0"}, "v0.10.0"},
		{[]string{"v1.0.0", ""}, ""},
		{[]string{"v1.0.0-rc1", "v0.9.0"}, "v1.0.0-rc1"},
	}
	for _, c := range cases {
		h := &Host{catalog: &pluginCatalog{directory: "/plugins", entries: entries(c.versions...)}}
		got, err := h.selectPluginVersion("pg")
		if err != nil || got != c.want {
			t.Errorf("versions %q: pinned %q (%v), want %q", c.versions, got, err, c.want)
		}
	}
}
