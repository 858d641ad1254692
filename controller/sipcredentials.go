package controller

import (
	"context"
	"errors"

	"hotline/controller/store"
	"hotline/internal/sipdigest"
)

// AgentCredentials answers a SIP registrar's question "what is the HA1 of
// this user?" from the store: the digest user name is an agent's extension,
// and only the HA1s the API stored (never a password) are handed out. A
// disabled agent is unknown to the registrar.
type AgentCredentials struct {
	Agents store.AgentRepo
}

// HA1 returns the agent's stored HA1 for alg; ok is false when no enabled
// agent has the extension or no HA1 is stored for alg.
func (c AgentCredentials) HA1(ctx context.Context, user string, alg sipdigest.Algorithm) (string, bool, error) {
	agent, err := c.Agents.GetByExtension(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if agent.Disabled {
		return "", false, nil
	}
	var ha1 string
	switch alg {
	case sipdigest.MD5:
		ha1 = agent.SIPHA1MD5
	case sipdigest.SHA256:
		ha1 = agent.SIPHA1SHA256
	}
	return ha1, ha1 != "", nil
}
