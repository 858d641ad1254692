package native

import (
	"context"
	"fmt"
	"io"

	"hotline/mediacore"
)

// Placeholders for the media contract's version 2 (the issue "Before the
// controller"): each answers ErrNotSupported until the native core
// implements it.

func (b *Backend) Progress(ctx context.Context, ch mediacore.ChannelID) error {
	return fmt.Errorf("progress: %w", mediacore.ErrNotSupported)
}

func (b *Backend) Channels(ctx context.Context) ([]mediacore.ChannelInfo, error) {
	return nil, fmt.Errorf("channels: %w", mediacore.ErrNotSupported)
}

func (b *Backend) Bridges(ctx context.Context) ([]mediacore.BridgeInfo, error) {
	return nil, fmt.Errorf("bridges: %w", mediacore.ErrNotSupported)
}

func (b *Backend) Variable(ctx context.Context, ch mediacore.ChannelID, name string) (string, error) {
	return "", fmt.Errorf("variable: %w", mediacore.ErrNotSupported)
}

func (b *Backend) SetVariable(ctx context.Context, ch mediacore.ChannelID, name, value string) error {
	return fmt.Errorf("set variable: %w", mediacore.ErrNotSupported)
}

func (b *Backend) AnswerTransfer(ctx context.Context, ch mediacore.ChannelID, id mediacore.TransferID, accept bool) error {
	return fmt.Errorf("answer transfer: %w", mediacore.ErrNotSupported)
}

func (b *Backend) OpenRecording(ctx context.Context, id mediacore.RecordingID) (io.ReadCloser, error) {
	return nil, fmt.Errorf("open recording: %w", mediacore.ErrNotSupported)
}
