package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"aula/room"
)

// The end callback: a platform that created a meeting with
// meta_endCallbackUrl (Greenlight does, to learn that a room ended) is
// called once when the meeting ends, as BBB calls it: GET on the URL as
// given, with recordingmarks (always false: Aula never records) and the
// platform's meetingID appended to its query.
//
// It is made off the end's path, by a goroutine, at most
// endCallbackMaxInFlight at once (more are dropped and logged), through
// the guarded outbound client (the URL is the platform's, but anyone who
// saw a create URL could have written one), with a timeout per attempt
// and a few attempts at most, never forever.

const (
	endCallbackTimeout     = 10 * time.Second
	endCallbackMaxInFlight = 32
	endCallbackMaxBody     = 64 << 10
)

// endCallbackBackoff is the wait before each further attempt; its length
// bounds the attempts (one more than its entries).
var endCallbackBackoff = []time.Duration{2 * time.Second, 10 * time.Second}

// endCallbackURL is the URL BBB would call for a meeting.
func endCallbackURL(raw, meetingID string) (*url.URL, error) {
	s, err := httpURL("meta_endCallbackUrl", raw)
	if err != nil || s == "" {
		return nil, errors.New("not an http(s) URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	extra := "recordingmarks=false&meetingID=" + url.QueryEscape(meetingID)
	if u.RawQuery == "" {
		u.RawQuery = extra
	} else {
		u.RawQuery += "&" + extra
	}
	return u, nil
}

// onMeetingEnded is the Manager's OnEnded hook: it starts the end
// callback, if the meeting asked for one, and returns at once.
func (s *server) onMeetingEnded(mt room.Meeting, _ string) {
	raw := mt.Meta["endcallbackurl"] // meta_ names are lower-cased
	if raw == "" {
		return
	}
	log := s.log.With("meeting", mt.Key)
	u, err := endCallbackURL(raw, mt.MeetingID)
	if err != nil {
		log.Info("end callback failed", "reason", err.Error())
		return
	}
	select {
	case s.callbacks <- struct{}{}:
	default:
		log.Warn("end callback dropped: too many in flight", "limit", endCallbackMaxInFlight)
		return
	}
	go func() {
		defer func() { <-s.callbacks }()
		if err := s.callEnd(u); err != nil {
			// The host only: the query may carry the platform's tokens.
			log.Info("end callback failed", "host", u.Host, "reason", err.Error())
			return
		}
		log.Debug("end callback made", "host", u.Host)
	}()
}

// errRetry marks a failure worth another attempt.
var errRetry = errors.New("retry")

// callEnd calls u until it answers 2xx, at most len(endCallbackBackoff)+1
// times. A refused address or a 4xx answer is final.
func (s *server) callEnd(u *url.URL) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = s.callEndOnce(u); err == nil || !errors.Is(err, errRetry) {
			return err
		}
		if attempt >= len(endCallbackBackoff) {
			return fmt.Errorf("%d attempts: %w", attempt+1, err)
		}
		time.Sleep(endCallbackBackoff[attempt])
	}
}

func (s *server) callEndOnce(u *url.URL) error {
	ctx, cancel := context.WithTimeout(context.Background(), endCallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrFetchRefused) {
			return errors.New(fetchReason(err))
		}
		return fmt.Errorf("%w: %s", errRetry, fetchReason(err))
	}
	defer resp.Body.Close()
	// Read a little, so the connection can be reused; the body means nothing.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, endCallbackMaxBody))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%w: answered %d", errRetry, resp.StatusCode)
	}
	return fmt.Errorf("answered %d", resp.StatusCode)
}
