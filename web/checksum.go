package web

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"strings"
)

// hashByLength picks BBB's checksum algorithm from the hex length of the
// checksum a client sent: 40 sha1, 64 sha256, 96 sha384, 128 sha512.
func hashByLength(n int) func() hash.Hash {
	switch n {
	case 40:
		return sha1.New
	case 64:
		return sha256.New
	case 96:
		return sha512.New384
	case 128:
		return sha512.New
	}
	return nil
}

// splitChecksum removes the checksum parameter from a raw (still encoded)
// query string, exactly as sent, and returns both. BBB hashes the query
// string as the client wrote it, so it must not be decoded and re-encoded:
// clients differ in how they escape spaces (%20 or +).
func splitChecksum(raw string) (rest, checksum string, found bool, err error) {
	if raw == "" {
		return "", "", false, nil
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0:0]
	for _, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		if k == "checksum" {
			if found {
				return "", "", false, fmt.Errorf("%w: more than one checksum", ErrChecksum)
			}
			checksum, found = v, true
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&"), checksum, found, nil
}

// Sign returns the hex checksum of call+query+secret with the algorithm
// named ("sha1", "sha256", "sha384", "sha512"); tests and the lead's demo
// link use it to build signed URLs.
func Sign(algo, call, query, secret string) string {
	var h hash.Hash
	switch algo {
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		h = sha1.New()
	}
	h.Write([]byte(call + query + secret))
	return hex.EncodeToString(h.Sum(nil))
}

// SignedQuery returns query with a sha256 checksum appended, ready to put
// after "/bigbluebutton/api/<call>?".
func SignedQuery(call string, params url.Values, secret string) string {
	q := params.Encode()
	sum := Sign("sha256", call, q, secret)
	if q == "" {
		return "checksum=" + sum
	}
	return q + "&checksum=" + sum
}

// verifyChecksum checks that sum is the checksum of call+query+secret, in
// constant time. An empty secret never verifies: Aula has no
// "security disabled" mode.
func verifyChecksum(call, query, sum, secret string) error {
	if secret == "" || sum == "" {
		return fmt.Errorf("%w: no checksum", ErrChecksum)
	}
	newHash := hashByLength(len(sum))
	if newHash == nil {
		return fmt.Errorf("%w: checksum length %d fits no algorithm", ErrChecksum, len(sum))
	}
	got, err := hex.DecodeString(sum)
	if err != nil {
		return fmt.Errorf("%w: checksum is not hex", ErrChecksum)
	}
	h := newHash()
	h.Write([]byte(call))
	h.Write([]byte(query))
	h.Write([]byte(secret))
	if subtle.ConstantTimeCompare(h.Sum(nil), got) != 1 {
		return ErrChecksum
	}
	return nil
}

// apiParams are an API request's parameters after the checksum passed.
type apiParams struct {
	v url.Values
}

// get returns the first value of a parameter (BBB takes the first).
func (p apiParams) get(name string) string { return p.v.Get(name) }

// has reports whether a parameter was sent at all.
func (p apiParams) has(name string) bool { _, ok := p.v[name]; return ok }

// authenticate verifies an API request and returns its parameters.
//
// query is the raw URL query; body the raw application/x-www-form-urlencoded
// body of a POST ("" otherwise). The checksum may come in either. BBB
// hashes the URL query string only, so a client that puts every parameter
// in the body signs an empty string — which would let anyone who once saw
// such a checksum replay it with any body. Aula therefore accepts:
//   - the checksum of the query string alone when the body carries no
//     parameters (every GET, and POSTs with an XML body), exactly as BBB;
//   - the checksum of query and body joined with "&" otherwise (as BBB 2.4
//     and 2.5 did), so every parameter is covered by the checksum.
func authenticate(call, query, body, secret string) (apiParams, error) {
	q, qsum, qfound, err := splitChecksum(query)
	if err != nil {
		return apiParams{}, err
	}
	b, bsum, bfound, err := splitChecksum(body)
	if err != nil {
		return apiParams{}, err
	}
	if qfound && bfound {
		return apiParams{}, fmt.Errorf("%w: checksum given twice", ErrChecksum)
	}
	sum := qsum
	if bfound {
		sum = bsum
	}
	signed := q
	if b != "" {
		if signed != "" {
			signed += "&"
		}
		signed += b
	}
	if err := verifyChecksum(call, signed, sum, secret); err != nil {
		return apiParams{}, err
	}
	all := url.Values{}
	for _, raw := range []string{q, b} {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return apiParams{}, paramErr("malformed query string")
		}
		for k, vs := range v {
			all[k] = append(all[k], vs...)
		}
	}
	return apiParams{v: all}, nil
}
