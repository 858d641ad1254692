package main

import (
	"hotline/api"
	"hotline/mediacore"
	"hotline/mediacore/native"
	"hotline/mediacore/native/registrar"
)

// registrarBlocks shows the native registrar's blocked password guessers
// to the API (GET/DELETE /api/v1/sip/blocks).
type registrarBlocks struct{ reg *registrar.Registrar }

// sipBlocksOf returns the block list of core's registrar, or nil when its
// backend runs none.
func sipBlocksOf(core *mediacore.Core) api.SIPBlocker {
	nb, ok := core.Backend().(*native.Backend)
	if !ok || nb.Registrar() == nil {
		return nil
	}
	return registrarBlocks{reg: nb.Registrar()}
}

func (r registrarBlocks) SIPBlocks() []api.SIPBlock {
	bs := r.reg.Blocks()
	out := make([]api.SIPBlock, len(bs))
	for i, b := range bs {
		out[i] = api.SIPBlock{Kind: b.Kind, User: b.User, Source: b.Source, Until: b.Until, Count: b.Count}
	}
	return out
}

func (r registrarBlocks) ClearSIPBlocks(source, user string) int { return r.reg.Unblock(source, user) }
