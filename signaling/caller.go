package signaling

import (
	"aula/room"
	"aula/sfu"
)

// CallerPolicy is the sfu.Policy for a participant who has no WebSocket,
// a phone caller bridged by the SIP gateway: the very rules browsers get
// ("participants cannot see each other", moderators always heard), with
// the caller counting as a viewer. It reads the meeting's current media
// room at every question, so it stays right while browsers come and go;
// lock applies while no browser is in the room.
func (m *Media) CallerPolicy(key string, lock room.LockSettings) sfu.Policy {
	alone := &mediaRoom{lock: lock, roles: map[string]room.Role{}}
	return sfu.PolicyFunc(func(sub, pub string, k sfu.TrackKind) bool {
		m.mu.Lock()
		r := m.rooms[key]
		m.mu.Unlock()
		if r == nil {
			r = alone
		}
		return r.CanReceive(sub, pub, k)
	})
}
