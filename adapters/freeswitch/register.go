package freeswitch

import (
	"hotline/mediacore"
)

func init() {
	mediacore.Register("freeswitch", func(opts mediacore.FactoryOptions) (mediacore.Backend, error) {
		var cfg Config
		if err := opts.Decode(&cfg); err != nil {
			return nil, err
		}
		cfg.Logger = opts.Logger
		return New(cfg)
	})
}
