package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"hotline/api"
	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/internal/sipdigest"
)

// demoAgents is the demo call center's staff: extension, name, skills.
var demoAgents = []struct {
	ext, name string
	skills    []store.SkillLevel
}{
	{"1001", "王芳 Wang Fang", []store.SkillLevel{{Skill: "sales", Level: 8}, {Skill: "mandarin", Level: 10}}},
	{"1002", "李伟 Li Wei", []store.SkillLevel{{Skill: "sales", Level: 6}, {Skill: "english", Level: 7}}},
	{"1003", "张敏 Zhang Min", []store.SkillLevel{{Skill: "sales", Level: 4}, {Skill: "support", Level: 5}, {Skill: "mandarin", Level: 9}}},
	{"1004", "刘洋 Liu Yang", []store.SkillLevel{{Skill: "support", Level: 9}, {Skill: "mandarin", Level: 10}}},
	{"1005", "陈静 Chen Jing", []store.SkillLevel{{Skill: "support", Level: 7}, {Skill: "english", Level: 9}}},
	{"1006", "杨磊 Yang Lei", []store.SkillLevel{{Skill: "support", Level: 3}, {Skill: "mandarin", Level: 8}}},
}

// seedDemo fills an empty store with a small call center: four skills, six
// agents (1001-1006), the queues sales and support, the access number 800
// answered by the demo IVR menu (ivr.DemoFlow), and an admin user whose generated password is printed
// once. A store that already has an admin user or a queue is left alone.
func seedDemo(ctx context.Context, st api.Controller, realm string, out io.Writer) error {
	if _, err := st.Users().GetByUsername(ctx, "admin"); err == nil {
		fmt.Fprintln(out, "demo: the store already has data; not seeding")
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if page, err := st.Queues().List(ctx, store.ListOptions{Limit: 1}); err != nil {
		return err
	} else if len(page.Items) > 0 {
		fmt.Fprintln(out, "demo: the store already has queues; not seeding")
		return nil
	}

	for _, name := range []string{"sales", "support", "mandarin", "english"} {
		if err := st.Skills().Create(ctx, &store.Skill{Name: name}); err != nil {
			return fmt.Errorf("skill %s: %w", name, err)
		}
	}
	sipPassword := randomSecret(9)
	ids := map[string]string{}
	for _, a := range demoAgents {
		agent := store.Agent{
			Name:         a.name,
			Extension:    a.ext,
			Skills:       a.skills,
			Team:         "demo",
			SIPHA1MD5:    sipdigest.HA1(sipdigest.MD5, a.ext, realm, sipPassword),
			SIPHA1SHA256: sipdigest.HA1(sipdigest.SHA256, a.ext, realm, sipPassword),
		}
		if err := st.Agents().Create(ctx, &agent); err != nil {
			return fmt.Errorf("agent %s: %w", a.ext, err)
		}
		ids[a.ext] = agent.ID
	}
	members := func(penalties map[string]int) []store.QueueMember {
		var m []store.QueueMember
		for _, a := range demoAgents {
			if p, ok := penalties[a.ext]; ok {
				m = append(m, store.QueueMember{AgentID: ids[a.ext], Penalty: p})
			}
		}
		return m
	}
	sales := store.Queue{
		Name: "sales", Strategy: store.StrategyLongestIdle,
		Members:        members(map[string]int{"1001": 0, "1002": 0, "1003": 1}),
		RequiredSkills: []store.SkillLevel{{Skill: "sales", Level: 1}},
		RingTimeout:    20, WrapUp: 10, MaxWait: 300, NoAnswerLimit: 3,
		JoinWhenNoAgents: true,
		Overflow:         &store.Target{Kind: store.TargetVoicemail, Value: "sales"},
		Announcements:    store.Announcements{PositionEvery: 30, ExpectedWait: true},
		Recording:        store.RecordingPolicy{Mode: store.RecordAll, Stereo: true},
	}
	support := sales
	support.Name = "support"
	support.Strategy = store.StrategyRoundRobin
	support.Members = members(map[string]int{"1003": 1, "1004": 0, "1005": 0, "1006": 0})
	support.RequiredSkills = []store.SkillLevel{{Skill: "support", Level: 1}}
	support.Overflow = &store.Target{Kind: store.TargetCallback}
	for _, q := range []*store.Queue{&sales, &support} {
		if err := st.Queues().Create(ctx, q); err != nil {
			return fmt.Errorf("queue %s: %w", q.Name, err)
		}
	}
	// 800 answers with the bilingual demo menu (ivr.DemoFlow): 1 sales,
	// 2 support, 0 a person. The flow is stored, so it shows (and can be
	// edited) at /api/v1/ivr-flows.
	doc, err := json.Marshal(ivr.DemoFlow())
	if err != nil {
		return err
	}
	flow := store.IVRFlow{Name: ivr.DemoFlow().Name, Flow: doc}
	if err := st.IVRFlows().Create(ctx, &flow); err != nil {
		return fmt.Errorf("demo IVR flow: %w", err)
	}
	did := store.Number{Number: ivr.DemoNumber, Name: "demo hotline", Route: store.Target{Kind: store.TargetIVR, Value: flow.ID}}
	if err := st.Numbers().Create(ctx, &did); err != nil {
		return fmt.Errorf("number 800: %w", err)
	}

	adminPassword := randomSecret(12)
	hash, err := api.HashPassword(adminPassword)
	if err != nil {
		return err
	}
	admin := store.User{Username: "admin", DisplayName: "Administrator", PasswordHash: hash, Role: store.RoleAdmin}
	if err := st.Users().Create(ctx, &admin); err != nil {
		return fmt.Errorf("admin user: %w", err)
	}
	fmt.Fprintf(out, "demo: seeded queues sales and support, agents 1001-1006, number 800 -> demo menu (1 sales, 2 support)\n")
	fmt.Fprintf(out, "demo: admin login   user=admin password=%s   (shown once)\n", adminPassword)
	fmt.Fprintf(out, "demo: agent phones  users 1001-1006 realm=%s SIP password=%s   (shown once)\n", realm, sipPassword)
	return nil
}

// randomSecret returns n random bytes as unpadded base64url text.
func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
