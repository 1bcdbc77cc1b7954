package sfu

import "testing"

func dump(t *testing.T, s *SFU, cs ...*testClient) {
	t.Logf("sfu stats: %+v", s.Stats())
	for _, c := range cs {
		c.mu.Lock()
		t.Logf("%s infos=%+v", c.id, c.infos)
		for id, r := range c.recv {
			t.Logf("%s recv %s: %d", c.id, id, r.packets.Load())
		}
		c.mu.Unlock()
		t.Logf("%s peer stats %+v", c.id, c.peer.Stats())
	}
}
