package authn

// The bound on the resync search.
//
// A wrong answer to a login challenge is looked for in the wide resync
// window of every device (the timing budget's worth, phantoms included:
// phantom.go), 2·ResyncWindow+1 steps each: 105 HMACs at the defaults,
// against none for a right answer, which the store matches by its tag.
// Left alone, every wrong answer costs that, bounded per user only by
// the lockout.
//
// The search runs at most once per user and time step on an instance:
// the first wrong answer of a step searches, later ones in the same step
// do not, and cost what the store's comparison costs. A phone whose clock
// drifted answers the same question with the same code throughout a time
// step, so its first answer in a step is the one that finds it; a user
// who mistyped first finds it with the next step's code (or the next
// challenge). What is bounded is the search work per user: one search per
// step (30 s by default) on each instance, whatever the number of
// answers.
//
// The claim is kept beside the user's device keys (keycache.go), so an
// unknown user is bounded exactly as a real one: the claim depends on the
// name and the clock, never on whether the name is a user, and the
// search it allows is padded by the phantoms as before. An entry the
// cache evicted forgets its claim: the bound is per entry, and an
// attacker who could evict entries at will could at most restore the
// cost of one search per answer, which was the cost before.

// claimSearch reports whether the resync search may run for id in the
// time step step, and if so records that it ran. It makes the user's
// entry (without keys) if there is none.
func (c *keyCache) claimSearch(id keyCacheID, step uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[id]
	if el == nil {
		el = c.lru.PushFront(&keyEntry{id: id})
		c.entries[id] = el
		for len(c.entries) > keyCacheUsers {
			c.removeLocked(c.lru.Back())
		}
	}
	e := el.Value.(*keyEntry)
	if e.searched == step+1 {
		return false
	}
	e.searched = step + 1
	return true
}
