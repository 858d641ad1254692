package controller

import (
	"net"
	"slices"
	"strconv"

	"hotline/controller/store"
	"hotline/mediacore"
)

// TrunkConfig maps a stored trunk to the media core's neutral trunk
// configuration. A disabled trunk is handed over as Disabled (a backend
// stops it and unregisters).
func TrunkConfig(t store.Trunk) mediacore.TrunkConfig {
	return mediacore.TrunkConfig{
		Name:        t.Name,
		Address:     net.JoinHostPort(t.Host, strconv.Itoa(t.Port)),
		Transport:   string(t.Transport),
		Priority:    t.Priority,
		Username:    t.Username,
		Password:    t.Password,
		Register:    t.Register,
		CallerID:    t.CallerID,
		InboundFrom: slices.Clone(t.InboundAddresses),
		Disabled:    !t.Enabled,
	}
}

// TrunkConfigs maps stored trunks, ordered by priority then name.
func TrunkConfigs(ts []store.Trunk) []mediacore.TrunkConfig {
	out := make([]mediacore.TrunkConfig, 0, len(ts))
	for _, t := range ts {
		out = append(out, TrunkConfig(t))
	}
	slices.SortStableFunc(out, func(a, b mediacore.TrunkConfig) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}
