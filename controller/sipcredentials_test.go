package controller

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"hotline/controller/store"
	"hotline/controller/store/sqlite"
	"hotline/internal/sipdigest"
)

func TestAgentCredentials(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	md5 := sipdigest.HA1(sipdigest.MD5, "1001", "hotline", "pw")
	sha := sipdigest.HA1(sipdigest.SHA256, "1001", "hotline", "pw")
	agents := []store.Agent{
		{Name: "enabled", Extension: "1001", SIPHA1MD5: md5, SIPHA1SHA256: sha},
		{Name: "md5 only", Extension: "1002", SIPHA1MD5: md5},
		{Name: "disabled", Extension: "1003", SIPHA1MD5: md5, SIPHA1SHA256: sha, Disabled: true},
	}
	for i := range agents {
		if err := st.Agents().Create(ctx, &agents[i]); err != nil {
			t.Fatal(err)
		}
	}
	creds := AgentCredentials{Agents: st.Agents()}
	tests := []struct {
		name, user string
		alg        sipdigest.Algorithm
		want       string
		ok         bool
	}{
		{"md5", "1001", sipdigest.MD5, md5, true},
		{"sha256", "1001", sipdigest.SHA256, sha, true},
		{"no sha256 stored", "1002", sipdigest.SHA256, "", false},
		{"disabled agent", "1003", sipdigest.MD5, "", false},
		{"unknown extension", "1999", sipdigest.MD5, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := creds.HA1(ctx, tt.user, tt.alg)
			if err != nil || got != tt.want || ok != tt.ok {
				t.Errorf("HA1(%s, %v) = %q, %v, %v; want %q, %v, nil", tt.user, tt.alg, got, ok, err, tt.want, tt.ok)
			}
		})
	}

	st.Close()
	if _, _, err := creds.HA1(ctx, "1001", sipdigest.MD5); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("closed store: err = %v, want ErrUnavailable", err)
	}
}
