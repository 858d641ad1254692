package audio_test

import (
	"fmt"
	"time"

	"hotline/mediacore/audio"
)

// A supervisor coaches an agent: the customer does not hear the coach.
func ExampleMixer() {
	m, _ := audio.NewMixer(0)
	agent, _ := m.Add(audio.Speak, nil)
	customer, _ := m.Add(audio.Speak, nil)
	coach, _ := m.Add(audio.Whisper, agent)

	tone := func(hz float64) []int16 {
		src, _ := audio.NewToneSource(audio.Tone{Freqs: []float64{hz}, Level: -10})
		buf := make([]int16, audio.FrameSamples)
		_, _ = src.ReadFrame(buf)
		return buf
	}
	_ = agent.Write(tone(400))
	_ = customer.Write(tone(1000))
	_ = coach.Write(tone(2000))
	m.Mix()

	fmt.Println("agent hears coach:", audio.ToneRatio(agent.Output(), audio.SampleRate, 2000) > 0.1)
	fmt.Println("customer hears coach:", audio.ToneRatio(customer.Output(), audio.SampleRate, 2000) > 0.1)
	// Output:
	// agent hears coach: true
	// customer hears coach: false
}

// The packets of one RFC 4733 digit, and a receiver reporting it once.
func ExampleDTMFSender() {
	var s audio.DTMFSender
	var r audio.DTMFReceiver
	_ = s.Start('5', 8000, 60*time.Millisecond, audio.DefaultDTMFVolume)
	payload := make([]byte, audio.TelephoneEventSize)
	for {
		p, ok := s.Next()
		if !ok {
			break
		}
		p.Event.MarshalTo(payload)
		d, isNew, _ := r.Receive(p.Timestamp, p.Marker, payload)
		fmt.Printf("marker=%v end=%v duration=%d", p.Marker, p.Event.End, p.Event.Duration)
		if isNew {
			fmt.Printf(" digit=%c", d.Digit)
		}
		fmt.Println()
	}
	// Output:
	// marker=true end=false duration=160 digit=5
	// marker=false end=false duration=320
	// marker=false end=true duration=480
	// marker=false end=true duration=480
	// marker=false end=true duration=480
}

// A jitter buffer releases frames in timestamp order at the consumer's tick.
func ExampleJitterBuffer() {
	jb, _ := audio.NewJitterBuffer(audio.DefaultJitterConfig())
	frame := make([]byte, audio.FrameSamples)
	// Packets 2 and 1 arrive swapped; packet 3 is lost.
	for _, seq := range []uint16{0, 2, 1, 4} {
		jb.Push(seq, uint32(seq)*audio.FrameSamples, frame)
	}
	for range 5 {
		f, st := jb.Pop()
		fmt.Println(st, f.Timestamp)
	}
	// Output:
	// frame 0
	// frame 160
	// frame 320
	// lost 480
	// frame 640
}
