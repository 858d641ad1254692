package storetest

import (
	"context"
	"fmt"

	"hotline/controller/store"
)

var ringGroupSuite = repoSuite[store.RingGroup]{
	repo: func(s store.Store) store.Repo[store.RingGroup] { return s.RingGroups() },
	make: func(i int) store.RingGroup {
		g := store.RingGroup{
			Name:        "support 支持",
			Number:      fmt.Sprintf("6%03d", i),
			Strategy:    store.RingSequential,
			Members:     []string{"1001", "1002"},
			RingTimeout: 15,
		}
		if i%2 == 0 {
			g.Strategy = store.RingSimultaneous
			g.NoAnswer = &store.Target{Kind: store.TargetVoicemail, Value: "support"}
		}
		return g
	},
	mutate: func(v *store.RingGroup) {
		v.Name += "+"
		v.Members = append(append([]string(nil), v.Members...), "1003")
		if v.NoAnswer == nil {
			v.NoAnswer = &store.Target{Kind: store.TargetHangup}
		} else {
			v.NoAnswer = nil
		}
	},
	setKey: func(v *store.RingGroup, from store.RingGroup) { v.Number = from.Number },
	getByKey: func(ctx context.Context, s store.Store, like store.RingGroup) (store.RingGroup, error) {
		return s.RingGroups().GetByNumber(ctx, like.Number)
	},
}

// agentPBX is the PBX settings of the agent fixtures (even ones).
func agentPBX() *store.PBXSettings {
	return &store.PBXSettings{DND: true, ForwardBusy: "1002", ForwardNoAnswer: "+8613800138000", NoAnswerTimeout: 15,
		FollowMe: store.FollowMeSequential, FollowMeDelay: 5, AnnounceWorkNumber: true, WorkNumber: "8001"}
}
