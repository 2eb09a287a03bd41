package pages

import (
	"container/list"
	"sync"
)

// DefaultCacheBytes bounds the rendered pages kept in memory when the
// configuration gives no bound: about 2,000 post pages with their gzip
// and brotli forms.
const DefaultCacheBytes = 64 << 20

// pageOverhead is what a cached page costs beyond its bodies: headers,
// the entry, the key.
const pageOverhead = 1 << 10

// pageCache holds rendered pages by path, bounded by bytes: the hot
// pages stay, the others are dropped and rendered again from the model
// at their next request. Reads take no lock (the readers' fast path);
// a read marks its page used, and eviction goes round the pages as a
// clock does, dropping the first not used since the hand last passed
// (an approximation of least recently used that costs readers no write
// to shared state beyond that mark).
type pageCache struct {
	m   sync.Map // path → *Page
	max int64

	mu    sync.Mutex
	order *list.List // of *cacheEntry, in the order the clock hand goes
	hand  *list.Element
	byKey map[string]*list.Element
	bytes int64
}

type cacheEntry struct {
	key  string
	page *Page
	size int64
}

func newPageCache(max int64) *pageCache {
	if max <= 0 {
		max = DefaultCacheBytes
	}
	return &pageCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// load returns the page at key and marks it used.
func (c *pageCache) load(key string) (*Page, bool) {
	v, ok := c.m.Load(key)
	if !ok {
		return nil, false
	}
	pg := v.(*Page)
	if !pg.used.Load() {
		pg.used.Store(true)
	}
	return pg, true
}

// store puts pg at key, replacing what was there, and evicts pages until
// the cache is within its bound again.
func (c *pageCache) store(key string, pg *Page) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.removeLocked(el)
	}
	pg.cache, pg.cacheKey = c, key
	e := &cacheEntry{key: key, page: pg, size: pg.cost()}
	c.byKey[key] = c.order.PushBack(e)
	c.bytes += e.size
	c.m.Store(key, pg)
	c.evictLocked()
}

// grew accounts for n more bytes held by pg (a compressed form made
// after it was stored), if pg is still cached.
func (c *pageCache) grew(pg *Page, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m.Load(pg.key())
	if !ok || v.(*Page) != pg {
		return
	}
	el := c.byKey[pg.key()]
	if el == nil {
		return
	}
	el.Value.(*cacheEntry).size += int64(n)
	c.bytes += int64(n)
	c.evictLocked()
}

// evictLocked goes round with the clock hand until the cache fits: a
// page used since the hand last passed is spared once (its mark cleared),
// one that was not is dropped.
func (c *pageCache) evictLocked() {
	for c.bytes > c.max && c.order.Len() > 0 {
		if c.hand == nil {
			c.hand = c.order.Front()
		}
		el := c.hand
		c.hand = el.Next()
		e := el.Value.(*cacheEntry)
		if e.page.used.Load() {
			e.page.used.Store(false)
			continue
		}
		c.removeLocked(el)
	}
}

func (c *pageCache) removeLocked(el *list.Element) {
	e := el.Value.(*cacheEntry)
	if c.hand == el {
		c.hand = el.Next()
	}
	c.order.Remove(el)
	delete(c.byKey, e.key)
	c.m.CompareAndDelete(e.key, e.page)
	c.bytes -= e.size
}

// drop removes the pages whose keys match.
func (c *pageCache) drop(match func(key string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if match(el.Value.(*cacheEntry).key) {
			c.removeLocked(el)
		}
		el = next
	}
}

// clear removes every page.
func (c *pageCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.Clear()
	c.order.Init()
	c.hand = nil
	clear(c.byKey)
	c.bytes = 0
}

// size returns the bytes the cache accounts for and the pages it holds.
func (c *pageCache) size() (bytes int64, pages int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, c.order.Len()
}
