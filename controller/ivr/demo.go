package ivr

// DemoNumber is the number the demo flow answers.
const DemoNumber = "800"

// DemoFlow returns the bilingual demo flow for the demo number 800: a menu
// in Chinese then English, 1 for the "sales" queue, 2 for the "support"
// queue, 0 (the escape key) for a person in "support"; after two retries
// the caller goes to "support" too. It returns a new, valid flow on every
// call.
func DemoFlow() *Flow {
	return &Flow{
		ID:       "demo-800",
		Name:     "Demo hotline 800",
		Version:  1,
		Language: LangZH,
		Start:    "welcome",
		Escape:   &Escape{Key: "0", Target: "support"},
		Nodes: map[string]Node{
			"welcome": &Menu{
				Note: "main menu",
				Input: Input{
					Prompt: []Prompt{
						Say("欢迎致电热线。销售请按1，技术支持请按2，人工服务请按0。"),
						SayIn(LangEN, "Welcome to the hotline. For sales, press 1. For support, press 2. To speak to an agent, press 0."),
					},
					TimeoutMS: 5000,
					Retries:   2,
					InvalidPrompt: []Prompt{
						Say("输入有误，请重新选择。"),
						SayIn(LangEN, "Sorry, that is not a valid choice."),
					},
					TimeoutPrompt: []Prompt{
						Say("我们没有收到您的选择。"),
						SayIn(LangEN, "We did not receive your choice."),
					},
					OnFailure: "support",
				},
				Choices: map[string]string{"1": "sales", "2": "support"},
			},
			"sales":   &Queue{Queue: "sales"},
			"support": &Queue{Queue: "support"},
		},
	}
}
