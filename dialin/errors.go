package dialin

import "errors"

// Sentinel errors of the SIP gateway. They are wrapped with %w and mapped to
// SIP status codes only at the edge (sipStatus). None of them ever carries a
// calling number or a PIN.
var (
	// ErrConfig: the gateway's configuration is invalid; wrapped with the field.
	ErrConfig = errors.New("dialin: invalid configuration")
	// ErrForbidden: the request does not come from an allowed trunk.
	ErrForbidden = errors.New("dialin: source not allowed")
	// ErrUnauthorized: digest credentials are missing or wrong.
	ErrUnauthorized = errors.New("dialin: authentication required")
	// ErrBadSDP: the offer could not be parsed.
	ErrBadSDP = errors.New("dialin: malformed SDP")
	// ErrNoCodec: the offer has no codec in common with the gateway.
	ErrNoCodec = errors.New("dialin: no common codec")
	// ErrRateLimited: the PIN check budget of this calling number or source
	// (and, for a new number, the reserve) is used up.
	ErrRateLimited = errors.New("dialin: too many attempts")
	// ErrNoPort: no RTP port is free in the configured range.
	ErrNoPort = errors.New("dialin: no free RTP port")
	// ErrBusy: the gateway carries its maximum number of calls.
	ErrBusy = errors.New("dialin: too many calls")
	// ErrTooManyPending: too many calls that have not yet entered a right
	// PIN, from the caller's source address or in total.
	ErrTooManyPending = errors.New("dialin: too many calls entering a PIN")
	// ErrVersion: the request is not SIP/2.0.
	ErrVersion = errors.New("dialin: SIP version not supported")
	// ErrClosed: the gateway is shutting down.
	ErrClosed = errors.New("dialin: gateway closed")
	// ErrBadDTMF: a DTMF payload (RFC 4733 or SIP INFO) is malformed.
	ErrBadDTMF = errors.New("dialin: malformed DTMF")
	// ErrBadAudio: an audio frame could not be decoded or encoded.
	ErrBadAudio = errors.New("dialin: bad audio frame")
)

// sipStatus maps an error to the SIP final response sent for it.
func sipStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrRateLimited):
		return 403, "Forbidden"
	case errors.Is(err, ErrUnauthorized):
		return 401, "Unauthorized"
	case errors.Is(err, ErrBadSDP), errors.Is(err, ErrNoCodec):
		return 488, "Not Acceptable Here"
	case errors.Is(err, ErrBusy), errors.Is(err, ErrTooManyPending):
		// Not 503: a trunk may take 503 (with Retry-After) as the whole
		// gateway being down and stop sending anyone for that long.
		return 486, "Busy Here"
	case errors.Is(err, ErrVersion):
		return 505, "Version Not Supported"
	case errors.Is(err, ErrNoPort), errors.Is(err, ErrClosed):
		return 503, "Service Unavailable"
	case errors.Is(err, ErrBadDTMF):
		return 400, "Bad Request"
	}
	return 500, "Server Internal Error"
}

// errAbandoned: the call ended while its PIN check waited for the
// reserve; nobody is left to answer.
var errAbandoned = errors.New("dialin: PIN check abandoned")
