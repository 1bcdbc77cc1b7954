package web

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"aula/room"
)

// CookieName is the session cookie. It is scoped to /r/<slot>/ so that
// two tabs of one browser, joined as different participants, keep apart;
// that rules out the __Host- prefix, which demands Path=/.
const CookieName = "aula_session"

// joinRole decides the role from role= or the legacy passwords.
func joinRole(p apiParams, mt *room.Meeting) (room.Role, error) {
	if r := strings.TrimSpace(p.get("role")); r != "" {
		switch role := room.Role(strings.ToUpper(r)); role {
		case room.Moderator, room.Viewer:
			return role, nil
		}
		return "", paramErr("role must be MODERATOR or VIEWER")
	}
	pw := p.get("password")
	if pw == "" {
		return "", ErrPassword
	}
	// Both compared in constant time, whichever matches.
	mod := subtle.ConstantTimeCompare([]byte(pw), []byte(mt.ModeratorPW)) == 1
	att := subtle.ConstantTimeCompare([]byte(pw), []byte(mt.AttendeePW)) == 1
	switch {
	case mod:
		return room.Moderator, nil
	case att:
		return room.Viewer, nil
	}
	return "", ErrPassword
}

func (s *server) apiJoin(req *apiReq) error {
	ctx := req.r.Context()
	p := req.p
	name := strings.TrimSpace(p.get("fullName"))
	if name == "" {
		return ErrMissingFullName
	}
	name, err := cleanString("fullName", name, 256, false)
	if err != nil {
		return err
	}
	id, err := meetingIDParam(p)
	if err != nil {
		return err
	}
	redirect, err := parseBool(p, "redirect", true)
	if err != nil {
		return err
	}
	guest, err := parseBool(p, "guest", false)
	if err != nil {
		return err
	}
	mt, err := s.mgr.Meeting(ctx, id)
	if err != nil {
		return err
	}
	if ct := strings.TrimSpace(p.get("createTime")); ct != "" {
		n, perr := strconv.ParseInt(ct, 10, 64)
		if perr != nil || n != millis(mt.CreateTime) {
			return ErrCreateTime
		}
	}
	role, err := joinRole(p, mt)
	if err != nil {
		return err
	}
	userID, err := cleanString("userID", strings.TrimSpace(p.get("userID")), 256, false)
	if err != nil {
		return err
	}
	// A bad avatar URL is dropped rather than failing the join: the
	// participant is then shown without a picture.
	avatar, aerr := httpURL("avatarURL", p.get("avatarURL"))
	if aerr != nil {
		avatar = ""
	}
	custom, err := parseUserData(p)
	if err != nil {
		return err
	}
	if mt.MaxParticipants > 0 {
		ps, err := s.mgr.Participants(ctx, mt.Key)
		if err != nil {
			return err
		}
		if len(ps) >= mt.MaxParticipants {
			return room.ErrFull
		}
	}
	token, sess, err := s.mgr.NewSession(ctx, mt.Key, room.Identity{
		Name: name, AvatarURL: avatar, Role: role, Kind: room.Browser, UserID: userID, Guest: guest,
		CustomData: custom,
	})
	if err != nil {
		return err
	}
	if s.metrics != nil {
		s.metrics.joins.WithLabelValues(string(role)).Inc()
	}
	if redirect {
		s.setSessionCookie(req.w, sess.Slot, token)
		s.countAPI(req.call, success)
		http.Redirect(req.w, req.r, s.clientURL(sess.Slot), http.StatusFound)
		return nil
	}
	// BBB's guestStatus: a guest under ASK_MODERATOR waits in the lobby
	// until a moderator lets them in (ALWAYS_DENY guests never get here).
	guestStatus := "ALLOW"
	if mt.AsksModerator(guest, role) {
		guestStatus = "WAIT"
	}
	return s.ok(req, joinXML{
		ReturnCode: success,
		MessageKey: "successfullyJoined",
		Message:    "You have joined successfully.",
		MeetingID:  mt.InternalID(),
		UserID:     sess.Identity.ParticipantID,
		// auth_token is BBB-internal; Aula needs none, so it is an
		// opaque value with no power.
		AuthToken:    room.NewID()[:12],
		SessionToken: token,
		GuestStatus:  guestStatus,
		// The token travels in this URL, so it is good for one visit:
		// /join/<token> swaps it for a fresh cookie token.
		URL: s.base + "/join/" + token,
	})
}

// joinErrorRedirect sends the browser to errorRedirectUrl when a join with
// redirect=true fails, with BBB's errors parameter. It reports whether it
// did. Only called after the checksum passed, so it is never an open
// redirect.
func (s *server) joinErrorRedirect(req *apiReq, err error) bool {
	redirect, perr := parseBool(req.p, "redirect", true)
	if perr != nil || !redirect {
		return false
	}
	raw := req.p.get("errorRedirectUrl")
	if raw == "" {
		raw = req.p.get("redirectErrorUrl") // BBB 2.7's name for it
	}
	target, uerr := httpURL("errorRedirectUrl", raw)
	if uerr != nil || target == "" {
		return false
	}
	u, _ := url.Parse(target)
	e := toAPIError(err)
	js, _ := json.Marshal([]map[string]string{{"key": e.Key, "message": e.Message}})
	q := u.Query()
	q.Set("errors", string(js))
	u.RawQuery = q.Encode()
	http.Redirect(req.w, req.r, u.String(), http.StatusFound)
	return true
}

// clientURL is the participant's client page.
func (s *server) clientURL(slot string) string {
	return s.base + "/r/" + slot + "/"
}

// setSessionCookie sets the only cookie Aula ever sets: no Expires or
// Max-Age (it dies with the browser), HttpOnly, SameSite=Lax (the join
// redirect is a top-level navigation from the platform), Secure behind TLS.
// When other sites may frame Aula (FrameAncestors) and it runs over
// https, the cookie is SameSite=None, or a framed client would never get
// it back, and Partitioned (CHIPS), so that it lives only in the jar of
// the platform that embeds Aula and browsers that block third-party
// cookies keep it.
func (s *server) setSessionCookie(w http.ResponseWriter, slot, token string) {
	c := &http.Cookie{
		Name:     CookieName,
		Value:    token,
		Path:     s.cookiePath(slot),
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if s.secure && framedByOthers(s.o.FrameAncestors) {
		c.SameSite, c.Partitioned = http.SameSiteNoneMode, true
	}
	http.SetCookie(w, c)
}

// framedByOthers reports whether the frame-ancestors sources name anyone
// but Aula itself.
func framedByOthers(ancestors []string) bool {
	for _, a := range ancestors {
		if a != "'self'" && a != "'none'" {
			return true
		}
	}
	return false
}

// cookiePath scopes the cookie to the client page, under the public URL's
// own path when Aula is served below a prefix.
func (s *server) cookiePath(slot string) string {
	return strings.TrimRight(s.o.PublicURL.Path, "/") + "/r/" + slot + "/"
}

// serveRedeem is GET /join/<token>: the one-time URL of a redirect=false
// join. It swaps the token for a fresh one in the cookie and enters.
func (s *server) serveRedeem(c *gin.Context) {
	token := c.Param("token")
	newToken, sess, err := s.mgr.RedeemSession(c.Request.Context(), token)
	if err != nil {
		if errors.Is(err, room.ErrNotFound) {
			s.page(c.Writer, c.Request, nil, http.StatusNotFound, "linkUsed")
			return
		}
		s.log.Error("redeem session", "err", err)
		s.page(c.Writer, c.Request, nil, http.StatusInternalServerError, "error")
		return
	}
	s.setSessionCookie(c.Writer, sess.Slot, newToken)
	c.Header("Cache-Control", "no-store")
	http.Redirect(c.Writer, c.Request, s.clientURL(sess.Slot), http.StatusFound)
}
