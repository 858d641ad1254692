package store

import "context"

// KindRingGroup names ring groups in the change feed.
const KindRingGroup Kind = "ring-groups"

// TargetRingGroup routes a call to a ring group (Value: its id).
const TargetRingGroup TargetKind = "ring-group"

// Follow-me modes (PBXSettings.FollowMe, R1.7).
const (
	FollowMeOff          = ""
	FollowMeSimultaneous = "simultaneous" // desk and mobile ring together
	FollowMeSequential   = "sequential"   // the desk first, then both
)

// Ring group strategies.
const (
	RingSimultaneous = "simultaneous" // every member at once
	RingSequential   = "sequential"   // one member after the other, in order
)

// PBXSettings are an extension's telephone features (R1.6, R1.7), kept on
// its agent record. A forward target is an extension ("1002") or a phone
// number rung through a trunk ("+8613800000000"). Follow-me rings the
// agent's MobileNumber too.
type PBXSettings struct {
	// DND refuses calls to the extension (busy), queue offers excepted
	// (the agent's ACD state governs those).
	DND bool `json:"dnd"`
	// ForwardAlways takes every call before the extension rings.
	ForwardAlways string `json:"forward_always,omitempty"`
	// ForwardBusy takes a call the extension refuses busy (or DND).
	ForwardBusy string `json:"forward_busy,omitempty"`
	// ForwardNoAnswer takes a call not answered within NoAnswerTimeout.
	ForwardNoAnswer string `json:"forward_no_answer,omitempty"`
	// NoAnswerTimeout is in seconds (0: the default, 20).
	NoAnswerTimeout int `json:"no_answer_timeout,omitempty"`
	// FollowMe is "", "simultaneous" or "sequential".
	FollowMe string `json:"follow_me,omitempty"`
	// FollowMeDelay is how long the desk rings alone in sequential
	// follow-me, in seconds (0: the default, 10).
	FollowMeDelay int `json:"follow_me_delay,omitempty"`
	// AnnounceWorkNumber tells a queue caller the agent's work number
	// (WorkNumber, or the extension) when the agent answers.
	AnnounceWorkNumber bool   `json:"announce_work_number,omitempty"`
	WorkNumber         string `json:"work_number,omitempty"`
}

// RingGroup rings a set of extensions for one number or route target.
type RingGroup struct {
	Meta
	Name string `json:"name"`
	// Number is dialled by internal phones; unique.
	Number string `json:"number"`
	// Strategy is "simultaneous" or "sequential".
	Strategy string `json:"strategy"`
	// Members are extensions, rung in this order when sequential.
	Members []string `json:"members"`
	// RingTimeout is in seconds: per member when sequential, for the
	// whole group when simultaneous (0: 20).
	RingTimeout int `json:"ring_timeout"`
	// NoAnswer is where the call goes when nobody answers (nil: hang up).
	NoAnswer *Target `json:"no_answer,omitempty"`
}

// RingGroupRepo stores ring groups; Number is unique.
type RingGroupRepo interface {
	Repo[RingGroup]
	GetByNumber(ctx context.Context, number string) (RingGroup, error)
}
