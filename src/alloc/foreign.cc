// Blocks of other threads' pages that this thread freed, kept to serve its
// own mallocs (Heap::foreign). A remote free otherwise pushes the block onto
// its page's thread_free with a CAS; the owner later collects it, walks the
// list and hands the block out again: the block's cache line crosses cores
// twice more, and the CAS contends with the owner's collection. Kept here,
// the next malloc of the class gets a block that is already in this core's
// cache. Its page still counts it in use, so nothing else changes; the cost
// is memory held away from its page, bounded per class (ISO_ALLOC_FOREIGN_KIB)
// and given back by iso_collect and at thread exit.
#include "internal.h"

namespace iso::alloc {

namespace {

// Gives b back to its page as a free by its owner or a remote free would.
void give_back(Heap* h, Block* b) {
  Segment* const s = segment_of(b);
  Page* pg = page_of(s, b);
  if (pg->flags & kInterior) pg = &s->pages[pg->head];
  const std::uintptr_t owner = s->owner.load(std::memory_order_acquire);
  if (owner == h->owner_word) return free_local(pg, b);  // its segment became this heap's since
  free_to_page(s, pg, b, owner);
}

}  // namespace

void foreign_setup(Heap* h) {
  for (unsigned cls = 0; cls < kDirectClasses; ++cls) {
    h->foreign[cls].free = nullptr;
    h->foreign[cls].used_minus1 = 0;
    const uint64_t n = h->use_direct ? uint64_t{g_options.foreign_kib} * 1024 / g_classes.size[cls] : 0;
    h->foreign_limit[cls] = static_cast<uint16_t>(n > 0xFFFF ? 0xFFFF : n);
  }
}

void* foreign_pop(Heap* h, unsigned cls) {
  Page& f = h->foreign[cls];
  Block* const b = f.free;
  if (b == nullptr) return nullptr;
  f.free = b->next;
  f.used_minus1++;
  if (h->use_direct) direct_set(h, cls, &f);  // the fast path serves the rest
  return b;
}

void foreign_serve_queue(Heap* h, unsigned cls) {
  if (h->use_direct && h->direct[g_classes.slot_first[cls]] == &h->foreign[cls])
    page_queue_head_changed(h, cls);
}

void foreign_flush(Heap* h) {
  for (unsigned cls = 0; cls < kDirectClasses; ++cls) {
    Page& f = h->foreign[cls];
    Block* b = f.free;
    f.free = nullptr;
    f.used_minus1 = 0;
    foreign_serve_queue(h, cls);
    while (b != nullptr) {
      Block* const next = b->next;
      h->stats.n[kStat_foreign_returned]++;
      give_back(h, b);
      b = next;
    }
  }
}

void foreign_close(Heap* h) {
  foreign_flush(h);
  for (uint16_t& limit : h->foreign_limit) limit = 0;  // keeps no more until foreign_setup
}

}  // namespace iso::alloc
