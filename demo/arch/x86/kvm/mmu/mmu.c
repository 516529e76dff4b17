// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Shadow MMU and the MMU entry points of x86 KVM at 6.19 paths. Bodies keep the calls that the
 * simulator's call stacks name, so a trace frame such as "calls kvm_make_all_cpus_request" lands
 * on a real line. Comments are short summaries written for the extension.
 */
#include "mmu.h"
#include "mmu_internal.h"
#include "tdp_mmu.h"
#include "spte.h"

bool tdp_enabled = false;
bool __ro_after_init tdp_mmu_enabled = true;
static bool __read_mostly nx_huge_pages;

struct kmem_cache *mmu_page_header_cache;
static struct kmem_cache *pte_list_desc_cache;

/* Up to 14 sptes per descriptor; new entries go into the head, tail descriptors are always full. */
#define PTE_LIST_EXT 14
struct pte_list_desc {
	struct pte_list_desc *more;
	u32 spte_count;
	u32 tail_count;
	u64 *sptes[PTE_LIST_EXT];
};

struct kvm_shadow_walk_iterator {
	u64 addr;
	hpa_t shadow_addr;
	u64 *sptep;
	int level;
	unsigned index;
};

#define for_each_shadow_entry(_vcpu, _addr, _walker)			\
	for (shadow_walk_init(&(_walker), _vcpu, _addr);		\
	     shadow_walk_okay(&(_walker));				\
	     shadow_walk_next(&(_walker)))

/* Shadow pages in one hash bucket with a given gfn, skipping obsolete ones. */
#define for_each_valid_sp(_kvm, _sp, _list)				\
	hlist_for_each_entry(_sp, _list, hash_link)			\
		if (is_obsolete_sp((_kvm), (_sp))) {			\
		} else

#define for_each_gfn_valid_sp_with_gptes(_kvm, _sp, _gfn)		\
	for_each_valid_sp(_kvm, _sp, &(_kvm)->arch.mmu_page_hash[kvm_page_table_hashfn(_gfn)]) \
		if ((_sp)->gfn != (_gfn) || !sp_has_gptes(_sp)) {} else

#define RMAP_RECYCLE_THRESHOLD 1000
#define BATCH_ZAP_PAGES	10

/* ---- SPTE accessors ---------------------------------------------------------------------- */

static void mmu_spte_set(u64 *sptep, u64 new_spte)
{
	WARN_ON_ONCE(is_shadow_present_pte(*sptep));
	__set_spte(sptep, new_spte);
}

static bool mmu_spte_update(u64 *sptep, u64 new_spte)
{
	u64 old_spte = mmu_spte_update_no_track(sptep, new_spte);

	/* a writable->read-only change needs a flush before the caller relies on it */
	return is_mmu_writable_spte(old_spte) && !is_mmu_writable_spte(new_spte);
}

static u64 mmu_spte_clear_track_bits(struct kvm *kvm, u64 *sptep)
{
	u64 old_spte = __update_clear_spte_slow(sptep, SHADOW_NONPRESENT_VALUE);

	if (is_shadow_present_pte(old_spte))
		kvm_update_page_stats(kvm, sptep_to_sp(sptep)->role.level, -1);
	return old_spte;
}

static void drop_spte(struct kvm *kvm, u64 *sptep)
{
	u64 old_spte = mmu_spte_clear_track_bits(kvm, sptep);

	if (is_shadow_present_pte(old_spte))
		rmap_remove(kvm, sptep);
}

/* ---- rmaps: one word per gfn/level, single sptep or a pte_list_desc chain ------------------- */

static unsigned long kvm_rmap_lock(struct kvm *kvm, struct kvm_rmap_head *rmap_head)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	return __kvm_rmap_lock(rmap_head);
}

static void kvm_rmap_unlock(struct kvm *kvm, struct kvm_rmap_head *rmap_head, unsigned long new_val)
{
	__kvm_rmap_unlock(rmap_head, new_val);
}

/* "Read-only" lock for lockless aging: still exclusive, but skipped for empty rmaps. */
static unsigned long kvm_rmap_lock_readonly(struct kvm_rmap_head *rmap_head)
{
	if (!atomic_long_read(&rmap_head->val))
		return 0;
	return __kvm_rmap_lock(rmap_head);
}

static void kvm_rmap_unlock_readonly(struct kvm_rmap_head *rmap_head, unsigned long old_val)
{
	if (old_val)
		__kvm_rmap_unlock(rmap_head, old_val);
}

/* Returns the number of sptes that were in the list before the insert. */
static int pte_list_add(struct kvm *kvm, struct kvm_mmu_memory_cache *cache, u64 *spte,
			struct kvm_rmap_head *rmap_head)
{
	unsigned long old_val = kvm_rmap_lock(kvm, rmap_head);
	struct pte_list_desc *desc;
	int count = 0;

	if (!old_val) {
		old_val = (unsigned long)spte;
	} else if (!(old_val & KVM_RMAP_MANY)) {
		desc = kvm_mmu_memory_cache_alloc(cache);
		desc->sptes[0] = (u64 *)old_val;
		desc->sptes[1] = spte;
		desc->spte_count = 2;
		old_val = (unsigned long)desc | KVM_RMAP_MANY;
		count = 1;
	} else {
		desc = (struct pte_list_desc *)(old_val & ~KVM_RMAP_MANY);
		count = desc->tail_count + desc->spte_count;
		desc->sptes[desc->spte_count++] = spte;
	}
	kvm_rmap_unlock(kvm, rmap_head, old_val);
	return count;
}

static void pte_list_desc_remove_entry(struct kvm *kvm, unsigned long *rmap_val,
				       struct pte_list_desc *desc, int i)
{
	/* move the head's last entry into the hole so tail descriptors stay full */
	desc->sptes[i] = desc->sptes[--desc->spte_count];
	if (!desc->spte_count)
		mmu_free_pte_list_desc(desc);
}

static void pte_list_remove(struct kvm *kvm, u64 *spte, struct kvm_rmap_head *rmap_head)
{
	unsigned long rmap_val = kvm_rmap_lock(kvm, rmap_head);

	if (KVM_BUG_ON_DATA_CORRUPTION(!rmap_val, kvm))
		goto out;
	pte_list_desc_remove_entry(kvm, &rmap_val, (void *)(rmap_val & ~KVM_RMAP_MANY), 0);
out:
	kvm_rmap_unlock(kvm, rmap_head, rmap_val);
}

static void kvm_zap_one_rmap_spte(struct kvm *kvm, struct kvm_rmap_head *rmap_head, u64 *sptep)
{
	mmu_spte_clear_track_bits(kvm, sptep);
	pte_list_remove(kvm, sptep, rmap_head);
}

static bool kvm_zap_all_rmap_sptes(struct kvm *kvm, struct kvm_rmap_head *rmap_head)
{
	unsigned long rmap_val = kvm_rmap_lock(kvm, rmap_head);

	if (!rmap_val)
		return false;
	/* clear every spte on the chain, then free the descriptors */
	mmu_spte_clear_track_bits(kvm, (u64 *)rmap_val);
	kvm_rmap_unlock(kvm, rmap_head, 0);
	return true;
}

static struct kvm_rmap_head *gfn_to_rmap(gfn_t gfn, int level, const struct kvm_memory_slot *slot)
{
	unsigned long idx = gfn_to_index(gfn, slot->base_gfn, level);

	return &slot->arch.rmap[level - PG_LEVEL_4K][idx];
}

static void rmap_remove(struct kvm *kvm, u64 *spte)
{
	struct kvm_mmu_page *sp = sptep_to_sp(spte);
	gfn_t gfn = kvm_mmu_page_get_gfn(sp, spte_index(spte));
	struct kvm_memory_slot *slot = __gfn_to_memslot(kvm_memslots_for_spte_role(kvm, sp->role), gfn);

	pte_list_remove(kvm, spte, gfn_to_rmap(gfn, sp->role.level, slot));
}

static bool kvm_zap_rmap(struct kvm *kvm, struct kvm_rmap_head *rmap_head,
			 const struct kvm_memory_slot *slot)
{
	return kvm_zap_all_rmap_sptes(kvm, rmap_head);
}

static __always_inline bool __walk_slot_rmaps(struct kvm *kvm, const struct kvm_memory_slot *slot,
					      slot_rmaps_handler fn, int start_level, int end_level,
					      gfn_t start_gfn, gfn_t end_gfn, bool can_yield, bool flush)
{
	struct slot_rmap_walk_iterator iterator;

	for_each_slot_rmap_range(slot, start_level, end_level, start_gfn, end_gfn, &iterator) {
		if (iterator.rmap)
			flush |= fn(kvm, iterator.rmap, slot);
		if (!can_yield)
			continue;
		if (need_resched() || rwlock_needbreak(&kvm->mmu_lock)) {
			if (flush)
				kvm_flush_remote_tlbs_range(kvm, start_gfn, iterator.gfn - start_gfn + 1);
			flush = false;
			cond_resched_rwlock_write(&kvm->mmu_lock);
		}
	}
	return flush;
}

static bool __kvm_rmap_zap_gfn_range(struct kvm *kvm, const struct kvm_memory_slot *slot,
				     gfn_t start, gfn_t end, bool can_yield, bool flush)
{
	return __walk_slot_rmaps(kvm, slot, kvm_zap_rmap, PG_LEVEL_4K, KVM_MAX_HUGEPAGE_LEVEL,
				 start, end - 1, can_yield, true, flush);
}

/* Notifier unmap: zap SPTEs of [range->start, range->end) in both MMUs. */
bool kvm_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range)
{
	bool flush = false;

	if (kvm_memslots_have_rmaps(kvm))
		flush = __kvm_rmap_zap_gfn_range(kvm, range->slot, range->start, range->end,
						 range->may_block, flush);
	if (tdp_mmu_enabled)
		flush = kvm_tdp_mmu_unmap_gfn_range(kvm, range, flush);
	return flush;
}

static void __rmap_add(struct kvm *kvm, struct kvm_mmu_memory_cache *cache,
		       const struct kvm_memory_slot *slot, u64 *spte, gfn_t gfn, unsigned int access)
{
	struct kvm_mmu_page *sp = sptep_to_sp(spte);
	struct kvm_rmap_head *rmap_head;
	int rmap_count;

	kvm_mmu_page_set_translation(sp, spte_index(spte), gfn, access);
	kvm_update_page_stats(kvm, sp->role.level, 1);
	rmap_head = gfn_to_rmap(gfn, sp->role.level, slot);
	rmap_count = pte_list_add(kvm, cache, spte, rmap_head);

	if (rmap_count > kvm->stat.max_mmu_rmap_size)
		kvm->stat.max_mmu_rmap_size = rmap_count;
	if (rmap_count > RMAP_RECYCLE_THRESHOLD) {
		kvm_zap_all_rmap_sptes(kvm, rmap_head);
		kvm_flush_remote_tlbs_gfn(kvm, gfn, sp->role.level);
	}
}

static void rmap_add(struct kvm_vcpu *vcpu, const struct kvm_memory_slot *slot, u64 *spte,
		     gfn_t gfn, unsigned int access)
{
	__rmap_add(vcpu->kvm, &vcpu->arch.mmu_pte_list_desc_cache, slot, spte, gfn, access);
}

/* Lockless shadow-MMU aging: read-only rmap lock, no mmu_lock. */
static bool kvm_rmap_age_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range, bool test_only)
{
	struct kvm_rmap_head *rmap_head;
	unsigned long rmap_val;
	bool young = false;
	gfn_t gfn;
	int level;

	for (level = PG_LEVEL_4K; level <= KVM_MAX_HUGEPAGE_LEVEL; level++) {
		for (gfn = range->start; gfn < range->end; gfn += KVM_PAGES_PER_HPAGE(level)) {
			rmap_head = gfn_to_rmap(gfn, level, range->slot);
			rmap_val = kvm_rmap_lock_readonly(rmap_head);
			young |= test_only ? kvm_rmap_test_young(rmap_val) : kvm_rmap_clear_young(rmap_val);
			kvm_rmap_unlock_readonly(rmap_head, rmap_val);
		}
	}
	return young;
}

static bool kvm_may_have_shadow_mmu_sptes(struct kvm *kvm)
{
	return !tdp_mmu_enabled || READ_ONCE(kvm->arch.indirect_shadow_pages);
}

bool kvm_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range)
{
	bool young = false;

	if (tdp_mmu_enabled)
		young = kvm_tdp_mmu_age_gfn_range(kvm, range);
	if (kvm_may_have_shadow_mmu_sptes(kvm))
		young |= kvm_rmap_age_gfn_range(kvm, range, false);
	return young;
}

bool kvm_test_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range)
{
	bool young = false;

	if (tdp_mmu_enabled)
		young = kvm_tdp_mmu_test_age_gfn(kvm, range);
	if (young)
		return young;
	if (kvm_may_have_shadow_mmu_sptes(kvm))
		young |= kvm_rmap_age_gfn_range(kvm, range, true);
	return young;
}

/* ---- write protection and unsync walks ----------------------------------------------------- */

/* A shadowed guest page table must stay write-protected: disallow huge pages over it and track it. */
static void account_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->arch.indirect_shadow_pages++;
	if (sp->role.level > PG_LEVEL_4K)
		return __kvm_write_track_add_gfn(kvm, slot, sp->gfn);
	kvm_mmu_gfn_disallow_lpage(slot, sp->gfn);
	if (kvm_mmu_slot_gfn_write_protect(kvm, slot, sp->gfn, PG_LEVEL_4K))
		kvm_flush_remote_tlbs_gfn(kvm, sp->gfn, PG_LEVEL_4K);
}

static void unaccount_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->arch.indirect_shadow_pages--;
	if (sp->role.level > PG_LEVEL_4K)
		return __kvm_write_track_remove_gfn(kvm, slot, sp->gfn);
	kvm_mmu_gfn_allow_lpage(slot, sp->gfn);
}

static bool rmap_write_protect(struct kvm_rmap_head *rmap_head, bool pt_protect)
{
	u64 *sptep;
	struct rmap_iterator iter;
	bool flush = false;

	for_each_rmap_spte(rmap_head, &iter, sptep)
		flush |= spte_write_protect(sptep, pt_protect);
	return flush;
}

/* Collect unsync descendants of @sp into @pvec (with the path of parents leading to each). */
static int mmu_unsync_walk(struct kvm_mmu_page *sp, struct kvm_mmu_pages *pvec)
{
	pvec->nr = 0;
	if (!sp->unsync_children)
		return 0;
	mmu_pages_add(pvec, sp, INVALID_INDEX);
	return __mmu_unsync_walk(sp, pvec);
}

#define for_each_sp(pvec, sp, parents, i)					\
		for (i = mmu_pages_first(&pvec, &parents);			\
			i < pvec.nr && ({ sp = pvec.page[i].sp; 1;});		\
			i = mmu_pages_next(&pvec, &parents, i))

/* ---- shadow page lifetime ----------------------------------------------------------------- */

static void kvm_mmu_free_shadow_page(struct kvm_mmu_page *sp)
{
	hlist_del(&sp->hash_link);
	list_del(&sp->link);
	free_page((unsigned long)sp->spt);
	free_page((unsigned long)sp->shadowed_translation);
	kmem_cache_free(mmu_page_header_cache, sp);
}

static unsigned kvm_page_table_hashfn(gfn_t gfn)
{
	return hash_64(gfn, KVM_MMU_HASH_SHIFT);
}

static void mmu_page_add_parent_pte(struct kvm *kvm, struct kvm_mmu_memory_cache *cache,
				    struct kvm_mmu_page *sp, u64 *parent_pte)
{
	if (!parent_pte)
		return;
	pte_list_add(kvm, cache, parent_pte, &sp->parent_ptes);
}

static void mmu_page_remove_parent_pte(struct kvm *kvm, struct kvm_mmu_page *sp, u64 *parent_pte)
{
	pte_list_remove(kvm, parent_pte, &sp->parent_ptes);
}

static void drop_parent_pte(struct kvm *kvm, struct kvm_mmu_page *sp, u64 *parent_pte)
{
	mmu_page_remove_parent_pte(kvm, sp, parent_pte);
	mmu_spte_clear_no_track(parent_pte);
}

static void mark_unsync(u64 *spte)
{
	struct kvm_mmu_page *sp = sptep_to_sp(spte);

	if (__test_and_set_bit(spte_index(spte), sp->unsync_child_bitmap))
		return;
	if (sp->unsync_children++)
		return;
	kvm_mmu_mark_parents_unsync(sp);
}

/* Propagate "has an unsync descendant" up through every parent SPTE. */
static void kvm_mmu_mark_parents_unsync(struct kvm_mmu_page *sp)
{
	u64 *sptep;
	struct rmap_iterator iter;

	for_each_rmap_spte(&sp->parent_ptes, &iter, sptep)
		mark_unsync(sptep);
}

static void kvm_unlink_unsync_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	WARN_ON_ONCE(!sp->unsync);
	sp->unsync = 0;
	--kvm->stat.mmu_unsync;
}

static bool sp_has_gptes(struct kvm_mmu_page *sp)
{
	return !sp->role.direct && !sp->role.passthrough;
}

static struct hlist_head *kvm_get_mmu_page_hash(struct kvm *kvm, gfn_t gfn)
{
	/* acquire pairs with the release in kvm_mmu_alloc_page_hash() */
	struct hlist_head *page_hash = smp_load_acquire(&kvm->arch.mmu_page_hash);

	return page_hash ? &page_hash[kvm_page_table_hashfn(gfn)] : NULL;
}

static int kvm_sync_page(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
			 struct list_head *invalid_list)
{
	int ret = __kvm_sync_page(vcpu, sp);

	if (ret < 0)
		kvm_mmu_prepare_zap_page(vcpu->kvm, sp, invalid_list);
	return ret;
}

static bool kvm_mmu_remote_flush_or_zap(struct kvm *kvm, struct list_head *invalid_list,
					bool remote_flush)
{
	if (!remote_flush && list_empty(invalid_list))
		return false;
	if (!list_empty(invalid_list))
		kvm_mmu_commit_zap_page(kvm, invalid_list);
	else
		kvm_flush_remote_tlbs(kvm);
	return true;
}

/* Obsolete: zapped (role.invalid) or, for shadow pages, created in the other generation. */
static bool is_obsolete_sp(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	if (sp->role.invalid)
		return true;
	return !is_tdp_mmu_page(sp) && unlikely(sp->mmu_valid_gen != kvm->arch.mmu_valid_gen);
}

static int mmu_sync_children(struct kvm_vcpu *vcpu, struct kvm_mmu_page *parent, bool can_yield)
{
	struct mmu_page_path parents;
	struct kvm_mmu_pages pages;
	LIST_HEAD(invalid_list);
	bool flush = false;
	int i;

	while (mmu_unsync_walk(parent, &pages)) {
		for_each_sp(pages, sp, parents, i) {
			kvm_unlink_unsync_page(vcpu->kvm, sp);
			flush |= kvm_sync_page(vcpu, sp, &invalid_list) > 0;
			mmu_pages_clear_parents(&parents);
		}
		if (need_resched() || rwlock_needbreak(&vcpu->kvm->mmu_lock)) {
			kvm_mmu_remote_flush_or_zap(vcpu->kvm, &invalid_list, flush);
			cond_resched_rwlock_write(&vcpu->kvm->mmu_lock);
			flush = false;
		}
	}
	kvm_mmu_remote_flush_or_zap(vcpu->kvm, &invalid_list, flush);
	return 0;
}

static struct kvm_mmu_page *kvm_mmu_find_shadow_page(struct kvm *kvm, struct kvm_vcpu *vcpu,
						     gfn_t gfn, struct hlist_head *sp_list,
						     union kvm_mmu_page_role role)
{
	struct kvm_mmu_page *sp;
	LIST_HEAD(invalid_list);

	for_each_valid_sp(kvm, sp, sp_list) {
		if (sp->gfn != gfn || sp->role.word != role.word)
			continue;
		/* a reused unsync page must be synced (or zapped) before it is linked again */
		if (sp->unsync && kvm_sync_page(vcpu, sp, &invalid_list) < 0)
			break;
		if (sp->unsync_children)
			kvm_make_request(KVM_REQ_MMU_SYNC, vcpu);
		goto out;
	}
	++kvm->stat.mmu_cache_miss;
	sp = NULL;
out:
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
	return sp;
}

static struct kvm_mmu_page *kvm_mmu_alloc_shadow_page(struct kvm *kvm,
						      struct shadow_page_caches *caches, gfn_t gfn,
						      struct hlist_head *sp_list,
						      union kvm_mmu_page_role role)
{
	struct kvm_mmu_page *sp = kvm_mmu_memory_cache_alloc(caches->page_header_cache);

	sp->spt = kvm_mmu_memory_cache_alloc(caches->shadow_page_cache);
	if (!role.direct && role.level <= KVM_MAX_HUGEPAGE_LEVEL)
		sp->shadowed_translation = kvm_mmu_memory_cache_alloc(caches->shadowed_info_cache);
	/* stamp the current generation: the page turns obsolete when the fast zap flips it */
	sp->mmu_valid_gen = kvm->arch.mmu_valid_gen;
	list_add(&sp->link, &kvm->arch.active_mmu_pages);
	kvm_account_mmu_page(kvm, sp);
	sp->gfn = gfn;
	sp->role = role;
	hlist_add_head(&sp->hash_link, sp_list);
	if (sp_has_gptes(sp))
		account_shadowed(kvm, sp);
	return sp;
}

static struct kvm_mmu_page *__kvm_mmu_get_shadow_page(struct kvm *kvm, struct kvm_vcpu *vcpu,
						      struct shadow_page_caches *caches,
						      gfn_t gfn, union kvm_mmu_page_role role)
{
	struct hlist_head *sp_list = kvm_get_mmu_page_hash(kvm, gfn);
	struct kvm_mmu_page *sp;

	sp = kvm_mmu_find_shadow_page(kvm, vcpu, gfn, sp_list, role);
	if (!sp)
		sp = kvm_mmu_alloc_shadow_page(kvm, caches, gfn, sp_list, role);
	return sp;
}

/* Find or create the shadow page for (gfn, role). */
static struct kvm_mmu_page *kvm_mmu_get_shadow_page(struct kvm_vcpu *vcpu, gfn_t gfn,
						    union kvm_mmu_page_role role)
{
	struct shadow_page_caches caches = {
		.page_header_cache = &vcpu->arch.mmu_page_header_cache,
		.shadow_page_cache = &vcpu->arch.mmu_shadow_page_cache,
	};

	return __kvm_mmu_get_shadow_page(vcpu->kvm, vcpu, &caches, gfn, role);
}

static struct kvm_mmu_page *kvm_mmu_get_child_sp(struct kvm_vcpu *vcpu, u64 *sptep, gfn_t gfn,
						 bool direct, unsigned int access)
{
	union kvm_mmu_page_role role = kvm_mmu_child_role(sptep, direct, access);

	return kvm_mmu_get_shadow_page(vcpu, gfn, role);
}

static void __link_shadow_page(struct kvm *kvm, struct kvm_mmu_memory_cache *cache, u64 *sptep,
			       struct kvm_mmu_page *sp, bool flush)
{
	u64 spte = make_nonleaf_spte(sp->spt, sp_ad_disabled(sp));

	if (is_shadow_present_pte(*sptep))
		drop_large_spte(kvm, sptep, flush);
	mmu_spte_set(sptep, spte);
	mmu_page_add_parent_pte(kvm, cache, sp, sptep);
	if (sp->unsync_children || sp->unsync)
		mark_unsync(sptep);
}

static void link_shadow_page(struct kvm_vcpu *vcpu, u64 *sptep, struct kvm_mmu_page *sp)
{
	__link_shadow_page(vcpu->kvm, &vcpu->arch.mmu_pte_list_desc_cache, sptep, sp, true);
}

/* ---- zapping ---------------------------------------------------------------------------- */

/* Clear one SPTE of @sp; returns true if a child page lost its last parent and was zapped. */
static int mmu_page_zap_pte(struct kvm *kvm, struct kvm_mmu_page *sp, u64 *spte,
			    struct list_head *invalid_list)
{
	u64 pte = *spte;
	struct kvm_mmu_page *child;

	if (!is_shadow_present_pte(pte))
		return 0;
	if (is_last_spte(pte, sp->role.level)) {
		drop_spte(kvm, spte);
		return 0;
	}
	child = spte_to_child_sp(pte);
	drop_parent_pte(kvm, child, spte);
	/* a nested-TDP child without gptes and without parents is useless: zap it too */
	if (tdp_enabled && invalid_list && child->role.guest_mode && !child->parent_ptes.val)
		return kvm_mmu_prepare_zap_page(kvm, child, invalid_list);
	return 0;
}

static int kvm_mmu_page_unlink_children(struct kvm *kvm, struct kvm_mmu_page *sp,
					struct list_head *invalid_list)
{
	int zapped = 0;
	unsigned i;

	for (i = 0; i < SPTE_ENT_PER_PAGE; ++i)
		zapped += mmu_page_zap_pte(kvm, sp, sp->spt + i, invalid_list);
	return zapped;
}

static void kvm_mmu_unlink_parents(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	u64 *sptep;
	struct rmap_iterator iter;

	while ((sptep = rmap_get_first(&sp->parent_ptes, &iter)))
		drop_parent_pte(kvm, sp, sptep);
}

static int mmu_zap_unsync_children(struct kvm *kvm, struct kvm_mmu_page *parent,
				   struct list_head *invalid_list)
{
	struct mmu_page_path parents;
	struct kvm_mmu_pages pages;
	struct kvm_mmu_page *sp;
	int i, zapped = 0;

	if (parent->role.level == PG_LEVEL_4K)
		return 0;
	while (mmu_unsync_walk(parent, &pages)) {
		for_each_sp(pages, sp, parents, i) {
			kvm_mmu_prepare_zap_page(kvm, sp, invalid_list);
			mmu_pages_clear_parents(&parents);
			zapped++;
		}
	}
	return zapped;
}

/*
 * Core of zapping: detach @sp from children, parents and the unsync machinery; free it later
 * (on @invalid_list) if unreferenced, otherwise leave it invalid until its last root reference
 * goes away. Returns true if the active list may have changed under the caller.
 */
static bool __kvm_mmu_prepare_zap_page(struct kvm *kvm, struct kvm_mmu_page *sp,
				       struct list_head *invalid_list, int *nr_zapped)
{
	bool list_unstable, zapped_root = false;

	lockdep_assert_held_write(&kvm->mmu_lock);
	++kvm->stat.mmu_shadow_zapped;
	*nr_zapped = mmu_zap_unsync_children(kvm, sp, invalid_list);
	*nr_zapped += kvm_mmu_page_unlink_children(kvm, sp, invalid_list);
	kvm_mmu_unlink_parents(kvm, sp);

	/* zapping children can zap pages further down the active list */
	list_unstable = *nr_zapped;

	if (!sp->role.invalid && sp_has_gptes(sp))
		unaccount_shadowed(kvm, sp);
	if (sp->unsync)
		kvm_unlink_unsync_page(kvm, sp);

	if (!sp->root_count) {
		(*nr_zapped)++;
		list_move(&sp->link, invalid_list);
	} else {
		/* still a vCPU root: take it off the active list, free it when the last user drops it */
		list_del(&sp->link);
		zapped_root = !is_obsolete_sp(kvm, sp);
	}
	if (sp->nx_huge_page_disallowed)
		unaccount_nx_huge_page(kvm, sp);
	sp->role.invalid = 1;

	/* only a live root needs the vCPUs to reload; obsolete ones are already being handled */
	if (zapped_root)
		kvm_make_all_cpus_request(kvm, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS);
	return list_unstable;
}

static bool kvm_mmu_prepare_zap_page(struct kvm *kvm, struct kvm_mmu_page *sp,
				     struct list_head *invalid_list)
{
	int nr_zapped;

	__kvm_mmu_prepare_zap_page(kvm, sp, invalid_list, &nr_zapped);
	return nr_zapped;
}

/* Flush remote TLBs (which also waits out lockless walkers), then free the zapped pages. */
static void kvm_mmu_commit_zap_page(struct kvm *kvm, struct list_head *invalid_list)
{
	struct kvm_mmu_page *sp, *nsp;

	if (list_empty(invalid_list))
		return;
	kvm_flush_remote_tlbs(kvm);
	list_for_each_entry_safe(sp, nsp, invalid_list, link) {
		WARN_ON_ONCE(!sp->role.invalid || sp->root_count);
		kvm_mmu_free_shadow_page(sp);
	}
}

static unsigned long kvm_mmu_zap_oldest_mmu_pages(struct kvm *kvm, unsigned long nr_to_zap)
{
	unsigned long total_zapped = 0;
	struct kvm_mmu_page *sp, *tmp;
	LIST_HEAD(invalid_list);
	bool unstable;
	int nr_zapped;

restart:
	list_for_each_entry_safe_reverse(sp, tmp, &kvm->arch.active_mmu_pages, link) {
		/* roots in use cannot be freed; skip them */
		if (sp->root_count)
			continue;
		unstable = __kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list, &nr_zapped);
		total_zapped += nr_zapped;
		if (total_zapped >= nr_to_zap)
			break;
		if (unstable)
			goto restart;
	}
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
	kvm->stat.mmu_recycled += total_zapped;
	return total_zapped;
}

static inline unsigned long kvm_mmu_available_pages(struct kvm *kvm)
{
	if (kvm->arch.n_max_mmu_pages > kvm->arch.n_used_mmu_pages)
		return kvm->arch.n_max_mmu_pages - kvm->arch.n_used_mmu_pages;
	return 0;
}

static int make_mmu_pages_available(struct kvm_vcpu *vcpu)
{
	unsigned long avail = kvm_mmu_available_pages(vcpu->kvm);

	if (likely(avail >= KVM_MIN_FREE_MMU_PAGES))
		return 0;
	kvm_mmu_zap_oldest_mmu_pages(vcpu->kvm, KVM_REFILL_PAGES - avail);
	if (!kvm_mmu_available_pages(vcpu->kvm))
		return -ENOSPC;
	return 0;
}

void kvm_mmu_change_mmu_pages(struct kvm *kvm, unsigned long goal_nr_mmu_pages)
{
	write_lock(&kvm->mmu_lock);
	if (kvm->arch.n_used_mmu_pages > goal_nr_mmu_pages) {
		kvm_mmu_zap_oldest_mmu_pages(kvm, kvm->arch.n_used_mmu_pages - goal_nr_mmu_pages);
		goal_nr_mmu_pages = kvm->arch.n_used_mmu_pages;
	}
	kvm->arch.n_max_mmu_pages = goal_nr_mmu_pages;
	write_unlock(&kvm->mmu_lock);
}

/* Unshadow the guest page table at @cr2_or_gpa so that the instruction can be retried. */
bool __kvm_mmu_unprotect_gfn_and_retry(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, bool always_retry)
{
	gpa_t gpa = cr2_or_gpa;
	struct kvm_mmu_page *sp;
	LIST_HEAD(invalid_list);
	bool r = false;

	if (!vcpu->kvm->arch.indirect_shadow_pages)
		goto out;
	write_lock(&vcpu->kvm->mmu_lock);
	for_each_gfn_valid_sp_with_gptes(vcpu->kvm, sp, gpa_to_gfn(gpa)) {
		r = true;
		kvm_mmu_prepare_zap_page(vcpu->kvm, sp, &invalid_list);
	}
	kvm_mmu_commit_zap_page(vcpu->kvm, &invalid_list);
	write_unlock(&vcpu->kvm->mmu_lock);
out:
	return r || always_retry;
}

static void kvm_unsync_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	trace_kvm_mmu_unsync_page(sp);
	++kvm->stat.mmu_unsync;
	sp->unsync = 1;
	kvm_mmu_mark_parents_unsync(sp);
}

/*
 * May @gfn be mapped writable? Yes if no shadow page write-protects it, or if every level-1
 * shadow page of it can be marked unsync. -EPERM if write-tracked or while synchronizing.
 */
int mmu_try_to_unsync_pages(struct kvm *kvm, const struct kvm_memory_slot *slot, gfn_t gfn,
			    bool synchronizing, bool prefetch)
{
	struct kvm_mmu_page *sp;
	bool locked = false;

	if (kvm_gfn_is_write_tracked(kvm, slot, gfn))
		return -EPERM;
	for_each_gfn_valid_sp_with_gptes(kvm, sp, gfn) {
		if (synchronizing)
			return -EPERM;
		if (sp->unsync)
			continue;
		if (prefetch)
			return -EEXIST;
		if (!locked) {
			locked = true;
			spin_lock(&kvm->arch.mmu_unsync_pages_lock);
		}
		kvm_unsync_page(kvm, sp);
	}
	if (locked)
		spin_unlock(&kvm->arch.mmu_unsync_pages_lock);
	return 0;
}

static int mmu_set_spte(struct kvm_vcpu *vcpu, struct kvm_memory_slot *slot, u64 *sptep,
			unsigned int pte_access, gfn_t gfn, kvm_pfn_t pfn, struct kvm_page_fault *fault)
{
	struct kvm_mmu_page *sp = sptep_to_sp(sptep);
	bool was_rmapped = is_shadow_present_pte(*sptep);
	bool wrprot;
	u64 spte;

	wrprot = make_spte(vcpu, sp, slot, pte_access, gfn, pfn, *sptep, fault->prefetch, false,
			   fault->map_writable, &spte);
	if (was_rmapped)
		mmu_spte_update(sptep, spte);
	else
		mmu_spte_set(sptep, spte);
	if (!was_rmapped)
		rmap_add(vcpu, slot, sptep, gfn, pte_access);
	return wrprot ? RET_PF_WRITE_PROTECTED : RET_PF_FIXED;
}

static int direct_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_shadow_walk_iterator it;
	struct kvm_mmu_page *sp;

	for_each_shadow_entry(vcpu, fault->addr, it) {
		if (it.level == fault->goal_level)
			break;
		sp = kvm_mmu_get_child_sp(vcpu, it.sptep, fault->gfn, true, ACC_ALL);
		link_shadow_page(vcpu, it.sptep, sp);
	}
	return mmu_set_spte(vcpu, fault->slot, it.sptep, ACC_ALL, fault->gfn, fault->pfn, fault);
}

/* ---- roots ------------------------------------------------------------------------------ */

static void mmu_free_root_page(struct kvm *kvm, hpa_t *root_hpa, struct list_head *invalid_list)
{
	struct kvm_mmu_page *sp = root_to_sp(*root_hpa);

	if (!VALID_PAGE(*root_hpa))
		return;
	if (is_tdp_mmu_page(sp)) {
		kvm_tdp_mmu_put_root(kvm, sp);
	} else if (!--sp->root_count && sp->role.invalid) {
		/* last user of a zapped root: now it can really go */
		kvm_mmu_prepare_zap_page(kvm, sp, invalid_list);
	}
	*root_hpa = INVALID_PAGE;
}

/* Drop the vCPU's references to the roots selected by @roots_to_free (current and/or cached). */
void kvm_mmu_free_roots(struct kvm *kvm, struct kvm_mmu *mmu, ulong roots_to_free)
{
	bool is_tdp_mmu = tdp_mmu_enabled && mmu->root_role.direct;
	LIST_HEAD(invalid_list);
	int i;

	if (is_tdp_mmu)
		read_lock(&kvm->mmu_lock);
	else
		write_lock(&kvm->mmu_lock);

	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
		if (roots_to_free & KVM_MMU_ROOT_PREVIOUS(i))
			mmu_free_root_page(kvm, &mmu->prev_roots[i].hpa, &invalid_list);
	if (roots_to_free & KVM_MMU_ROOT_CURRENT)
		mmu_free_root_page(kvm, &mmu->root.hpa, &invalid_list);

	if (is_tdp_mmu) {
		read_unlock(&kvm->mmu_lock);
		WARN_ON_ONCE(!list_empty(&invalid_list));
	} else {
		kvm_mmu_commit_zap_page(kvm, &invalid_list);
		write_unlock(&kvm->mmu_lock);
	}
}

void kvm_mmu_free_guest_mode_roots(struct kvm *kvm, struct kvm_mmu *mmu)
{
	unsigned long roots_to_free = 0;
	int i;

	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
		if (root_to_sp(mmu->prev_roots[i].hpa)->role.guest_mode)
			roots_to_free |= KVM_MMU_ROOT_PREVIOUS(i);
	kvm_mmu_free_roots(kvm, mmu, roots_to_free);
}

static hpa_t mmu_alloc_root(struct kvm_vcpu *vcpu, gfn_t gfn, int quadrant, u8 level)
{
	union kvm_mmu_page_role role = vcpu->arch.mmu->root_role;
	struct kvm_mmu_page *sp;

	role.level = level;
	role.quadrant = quadrant;
	sp = kvm_mmu_get_shadow_page(vcpu, gfn, role);
	++sp->root_count;
	return __pa(sp->spt);
}

static int mmu_alloc_direct_roots(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	u8 shadow_root_level = mmu->root_role.level;
	int r;

	if (tdp_mmu_enabled) {
		kvm_tdp_mmu_alloc_root(vcpu, false);
		return 0;
	}
	write_lock(&vcpu->kvm->mmu_lock);
	r = make_mmu_pages_available(vcpu);
	if (!r)
		mmu->root.hpa = mmu_alloc_root(vcpu, 0, 0, shadow_root_level);
	write_unlock(&vcpu->kvm->mmu_lock);
	return r;
}

static int kvm_mmu_alloc_page_hash(struct kvm *kvm)
{
	struct hlist_head *h;

	if (kvm->arch.mmu_page_hash)
		return 0;
	h = kvcalloc(KVM_NUM_MMU_PAGES, sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	/* readers use an acquire load: publish the table only once it is zeroed */
	smp_store_release(&kvm->arch.mmu_page_hash, h);
	return 0;
}

static int mmu_first_shadow_root_alloc(struct kvm *kvm)
{
	int r = 0;

	if (kvm_shadow_root_allocated(kvm))
		return 0;
	mutex_lock(&kvm->slots_arch_lock);
	r = kvm_mmu_alloc_page_hash(kvm);
	if (!r && kvm_memslots_have_rmaps(kvm) == false)
		r = memslot_rmap_alloc_all(kvm);
	if (!r)
		smp_store_release(&kvm->arch.shadow_root_allocated, true);
	mutex_unlock(&kvm->slots_arch_lock);
	return r;
}

static int mmu_alloc_shadow_roots(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	gfn_t root_gfn = kvm_mmu_get_guest_pgd(vcpu, mmu) >> PAGE_SHIFT;
	int r;

	r = mmu_first_shadow_root_alloc(vcpu->kvm);
	if (r)
		return r;
	write_lock(&vcpu->kvm->mmu_lock);
	r = make_mmu_pages_available(vcpu);
	if (!r)
		mmu->root.hpa = mmu_alloc_root(vcpu, root_gfn, 0, mmu->root_role.level);
	write_unlock(&vcpu->kvm->mmu_lock);
	return r;
}

void kvm_mmu_sync_roots(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu_page *sp = root_to_sp(vcpu->arch.mmu->root.hpa);

	if (vcpu->arch.mmu->root_role.direct || !sp)
		return;
	write_lock(&vcpu->kvm->mmu_lock);
	mmu_sync_children(vcpu, sp, true);
	write_unlock(&vcpu->kvm->mmu_lock);
}

void kvm_mmu_sync_prev_roots(struct kvm_vcpu *vcpu)
{
	unsigned long roots_to_free = 0;
	int i;

	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
		if (is_unsync_root(vcpu->arch.mmu->prev_roots[i].hpa))
			roots_to_free |= KVM_MMU_ROOT_PREVIOUS(i);
	kvm_mmu_free_roots(vcpu->kvm, vcpu->arch.mmu, roots_to_free);
}

/* ---- page faults ------------------------------------------------------------------------ */

static int __kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	fault->pfn = __kvm_faultin_pfn(fault->slot, fault->gfn, fault->write ? FOLL_WRITE : 0,
				       &fault->map_writable, &fault->refcounted_page);
	return RET_PF_CONTINUE;
}

/*
 * Snapshot mmu_invalidate_seq *before* resolving the pfn: if an invalidation runs meanwhile, the
 * fault notices under mmu_lock (is_page_fault_stale) and retries instead of mapping a stale page.
 */
static int kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
			       unsigned int access)
{
	fault->mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	smp_rmb();

	/* cheap early-out without mmu_lock; the locked check still decides */
	if (mmu_invalidate_retry_gfn_unsafe(vcpu->kvm, fault->mmu_seq, fault->gfn))
		return RET_PF_RETRY;
	return __kvm_mmu_faultin_pfn(vcpu, fault);
}

static bool is_page_fault_stale(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_mmu_page *sp = root_to_sp(vcpu->arch.mmu->root.hpa);

	if (sp && is_obsolete_sp(vcpu->kvm, sp))
		return true;
	/* roots without a header: stale if a free-obsolete request is pending */
	if (!sp && kvm_test_request(KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, vcpu))
		return true;
	return fault->slot && mmu_invalidate_retry_gfn(vcpu->kvm, fault->mmu_seq, fault->gfn);
}

/*
 * Demo skeleton: the last word of a fault. Whatever the outcome, the
 * reference on the faulted-in page is handed back here; when a mapping was
 * installed the page is also marked accessed (and dirty for a write).
 */
static void kvm_mmu_finish_page_fault(struct kvm_vcpu *vcpu,
				      struct kvm_page_fault *fault, int r)
{
	kvm_release_faultin_page(vcpu->kvm, fault->refcounted_page,
				 r == RET_PF_RETRY, fault->map_writable);
}

static int direct_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = fast_page_fault(vcpu, fault);
	if (r != RET_PF_INVALID)
		return r;
	r = mmu_topup_memory_caches(vcpu, false);
	if (r)
		return r;
	r = kvm_mmu_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);
	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;
	r = make_mmu_pages_available(vcpu);
	if (r)
		goto out_unlock;
	r = direct_map(vcpu, fault);
out_unlock:
	kvm_mmu_finish_page_fault(vcpu, fault, r);
	write_unlock(&vcpu->kvm->mmu_lock);
	return r;
}

static int nonpaging_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	return direct_page_fault(vcpu, fault);
}

/* TDP MMU fault: mmu_lock for read; SPTEs are installed with atomic exchanges. */
static int kvm_tdp_mmu_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = fast_page_fault(vcpu, fault);
	if (r != RET_PF_INVALID)
		return r;
	r = kvm_mmu_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	read_lock(&vcpu->kvm->mmu_lock);
	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;
	r = kvm_tdp_mmu_map(vcpu, fault);
out_unlock:
	kvm_mmu_finish_page_fault(vcpu, fault, r);
	read_unlock(&vcpu->kvm->mmu_lock);
	return r;
}

int kvm_tdp_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	if (tdp_mmu_enabled)
		return kvm_tdp_mmu_page_fault(vcpu, fault);
	return direct_page_fault(vcpu, fault);
}

int noinline kvm_mmu_page_fault(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, u64 error_code,
				void *insn, int insn_len)
{
	int r = RET_PF_INVALID;

	if (WARN_ON_ONCE(!VALID_PAGE(vcpu->arch.mmu->root.hpa)))
		return RET_PF_RETRY;
	r = kvm_mmu_do_page_fault(vcpu, cr2_or_gpa, error_code, false, NULL, NULL);
	if (r == RET_PF_WRITE_PROTECTED)
		r = kvm_mmu_write_protect_fault(vcpu, cr2_or_gpa, error_code, &emulation_type);
	if (r == RET_PF_EMULATE)
		return x86_emulate_instruction(vcpu, cr2_or_gpa, emulation_type, insn, insn_len);
	return r < 0 ? r : 1;
}

/* ---- CR3 / root switching, load and unload ------------------------------------------------ */

static bool fast_pgd_switch(struct kvm *kvm, struct kvm_mmu *mmu, gpa_t new_pgd,
			    union kvm_mmu_page_role new_role)
{
	/* swap the current root with a cached one that matches; evict the oldest otherwise */
	if (VALID_PAGE(mmu->root.hpa) && !root_to_sp(mmu->root.hpa))
		kvm_mmu_free_roots(kvm, mmu, KVM_MMU_ROOT_CURRENT);
	if (VALID_PAGE(mmu->root.hpa))
		return cached_root_find_and_keep_current(kvm, mmu, new_pgd, new_role);
	return cached_root_find_without_current(kvm, mmu, new_pgd, new_role);
}

void kvm_mmu_new_pgd(struct kvm_vcpu *vcpu, gpa_t new_pgd)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	union kvm_mmu_page_role new_role = mmu->root_role;

	if (!fast_pgd_switch(vcpu->kvm, mmu, new_pgd, new_role)) {
		/* nothing cached: the next kvm_mmu_reload() builds a new root */
		return;
	}
	kvm_make_request(KVM_REQ_LOAD_MMU_PGD, vcpu);
	if (!new_role.direct)
		kvm_make_request(KVM_REQ_MMU_SYNC, vcpu);
	kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
}

void kvm_init_mmu(struct kvm_vcpu *vcpu)
{
	if (mmu_is_nested(vcpu))
		init_kvm_nested_mmu(vcpu, cpu_role);
	else if (tdp_enabled)
		init_kvm_tdp_mmu(vcpu, cpu_role);
	else
		init_kvm_softmmu(vcpu, cpu_role);
}

void kvm_mmu_reset_context(struct kvm_vcpu *vcpu)
{
	kvm_mmu_unload(vcpu);
	kvm_init_mmu(vcpu);
}

int kvm_mmu_load(struct kvm_vcpu *vcpu)
{
	int r;

	r = mmu_topup_memory_caches(vcpu, !vcpu->arch.mmu->root_role.direct);
	if (r)
		goto out;
	if (vcpu->arch.mmu->root_role.direct)
		r = mmu_alloc_direct_roots(vcpu);
	else
		r = mmu_alloc_shadow_roots(vcpu);
	if (r)
		goto out;
	kvm_mmu_sync_roots(vcpu);
	kvm_mmu_load_pgd(vcpu);
	/* a new root may be reused from an earlier life: flush what the hardware cached for it */
	kvm_x86_call(flush_tlb_current)(vcpu);
out:
	return r;
}

void kvm_mmu_unload(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	kvm_mmu_free_roots(kvm, &vcpu->arch.root_mmu, KVM_MMU_ROOTS_ALL);
	kvm_mmu_free_roots(kvm, &vcpu->arch.guest_mmu, KVM_MMU_ROOTS_ALL);
}

static bool is_obsolete_root(struct kvm *kvm, hpa_t root_hpa)
{
	struct kvm_mmu_page *sp;

	if (!VALID_PAGE(root_hpa))
		return false;
	/* special roots (PAE, dummy) have no header: treat them as obsolete */
	sp = root_to_sp(root_hpa);
	return !sp || is_obsolete_sp(kvm, sp);
}

static void __kvm_mmu_free_obsolete_roots(struct kvm *kvm, struct kvm_mmu *mmu)
{
	unsigned long roots_to_free = 0;
	int i;

	if (is_obsolete_root(kvm, mmu->root.hpa))
		roots_to_free |= KVM_MMU_ROOT_CURRENT;
	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
		/* test each cached root itself, not the current one */
		if (is_obsolete_root(kvm, mmu->prev_roots[i].hpa))
			roots_to_free |= KVM_MMU_ROOT_PREVIOUS(i);
	}
	if (roots_to_free)
		kvm_mmu_free_roots(kvm, mmu, roots_to_free);
}

void kvm_mmu_free_obsolete_roots(struct kvm_vcpu *vcpu)
{
	__kvm_mmu_free_obsolete_roots(vcpu->kvm, &vcpu->arch.root_mmu);
	__kvm_mmu_free_obsolete_roots(vcpu->kvm, &vcpu->arch.guest_mmu);
}

/* Emulated write to a guest page table that is shadowed: zap or update the affected SPTEs. */
void kvm_mmu_track_write(struct kvm_vcpu *vcpu, gpa_t gpa, const u8 *new, int bytes)
{
	gfn_t gfn = gpa >> PAGE_SHIFT;
	struct kvm_mmu_page *sp;
	LIST_HEAD(invalid_list);
	bool flush = false;
	u64 *spte;

	if (!READ_ONCE(vcpu->kvm->arch.indirect_shadow_pages))
		return;
	write_lock(&vcpu->kvm->mmu_lock);
	++vcpu->kvm->stat.mmu_pte_write;
	for_each_gfn_valid_sp_with_gptes(vcpu->kvm, sp, gfn) {
		if (detect_write_misaligned(sp, gpa, bytes) || detect_write_flooding(sp)) {
			kvm_mmu_prepare_zap_page(vcpu->kvm, sp, &invalid_list);
			++vcpu->kvm->stat.mmu_flooded;
			continue;
		}
		spte = get_written_sptes(sp, gpa, &npte);
		while (npte--) {
			mmu_page_zap_pte(vcpu->kvm, sp, spte, NULL);
			flush = true;
		}
	}
	kvm_mmu_remote_flush_or_zap(vcpu->kvm, &invalid_list, flush);
	write_unlock(&vcpu->kvm->mmu_lock);
}

void kvm_mmu_invalidate_addr(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu, u64 addr,
			     unsigned long roots)
{
	if (roots & KVM_MMU_ROOT_CURRENT)
		__kvm_mmu_invalidate_addr(vcpu, mmu, addr, mmu->root.hpa);
}

void kvm_mmu_invlpg(struct kvm_vcpu *vcpu, gva_t gva)
{
	kvm_mmu_invalidate_addr(vcpu, vcpu->arch.walk_mmu, gva, KVM_MMU_ROOTS_ALL);
	++vcpu->stat.invlpg;
}

/* ---- fast zap ---------------------------------------------------------------------------- */

/*
 * Zap obsolete pages from the tail of active_mmu_pages (oldest first). Drops mmu_lock every
 * BATCH_ZAP_PAGES zaps; obsolete pages cannot be reused meanwhile, so the walk can restart.
 */
static void kvm_zap_obsolete_pages(struct kvm *kvm)
{
	struct kvm_mmu_page *sp, *node;
	int nr_zapped, batch = 0;
	LIST_HEAD(invalid_list);
	bool unstable;

	lockdep_assert_held(&kvm->slots_lock);
restart:
	list_for_each_entry_safe_reverse(sp, node, &kvm->arch.active_mmu_pages, link) {
		/* everything older than the first non-obsolete page is obsolete too */
		if (!is_obsolete_sp(kvm, sp))
			break;
		if (sp->role.invalid)
			continue;
		if (batch >= BATCH_ZAP_PAGES &&
		    cond_resched_rwlock_write(&kvm->mmu_lock)) {
			batch = 0;
			goto restart;
		}
		unstable = __kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list, &nr_zapped);
		batch += nr_zapped;
		if (unstable)
			goto restart;
	}
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
}

/*
 * Invalidate every shadow page and TDP root at once: flip the generation, mark TDP roots invalid,
 * tell vCPUs to drop obsolete roots, then zap. The request goes out before anything can yield.
 */
static void kvm_mmu_zap_all_fast(struct kvm *kvm)
{
	lockdep_assert_held(&kvm->slots_lock);

	write_lock(&kvm->mmu_lock);
	trace_kvm_mmu_zap_all_fast(kvm);

	kvm->arch.mmu_valid_gen = kvm->arch.mmu_valid_gen ? 0 : 1;

	if (tdp_mmu_enabled)
		kvm_tdp_mmu_invalidate_roots(kvm, KVM_DIRECT_ROOTS);

	kvm_make_all_cpus_request(kvm, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS);

	kvm_zap_obsolete_pages(kvm);
	write_unlock(&kvm->mmu_lock);

	/* TDP roots are zapped under the read lock, after vCPUs dropped their references */
	if (tdp_mmu_enabled)
		kvm_tdp_mmu_zap_invalidated_roots(kvm, true);
}

void kvm_mmu_init_vm(struct kvm *kvm)
{
	kvm->arch.shadow_mmio_value = shadow_mmio_value;
	INIT_LIST_HEAD(&kvm->arch.active_mmu_pages);
	spin_lock_init(&kvm->arch.mmu_unsync_pages_lock);
	if (tdp_mmu_enabled)
		kvm_mmu_init_tdp_mmu(kvm);
	else
		kvm_mmu_alloc_page_hash(kvm);
}

void kvm_mmu_uninit_vm(struct kvm *kvm)
{
	kvfree(kvm->arch.mmu_page_hash);
	if (tdp_mmu_enabled)
		kvm_mmu_uninit_tdp_mmu(kvm);
	mmu_free_vm_memory_caches(kvm);
}

static bool kvm_rmap_zap_gfn_range(struct kvm *kvm, gfn_t gfn_start, gfn_t gfn_end)
{
	const struct kvm_memory_slot *memslot;
	struct kvm_memslot_iter iter;
	bool flush = false;

	kvm_for_each_memslot_in_gfn_range(&iter, kvm_memslots(kvm), gfn_start, gfn_end) {
		memslot = iter.slot;
		flush = __kvm_rmap_zap_gfn_range(kvm, memslot, gfn_start, gfn_end, true, flush);
	}
	return flush;
}

/* Zap SPTEs for [gfn_start, gfn_end) in both MMUs, as an invalidation of its own. */
void kvm_zap_gfn_range(struct kvm *kvm, gfn_t gfn_start, gfn_t gfn_end)
{
	bool flush;

	write_lock(&kvm->mmu_lock);
	kvm_mmu_invalidate_begin(kvm);
	kvm_mmu_invalidate_range_add(kvm, gfn_start, gfn_end);
	flush = kvm_rmap_zap_gfn_range(kvm, gfn_start, gfn_end);
	if (tdp_mmu_enabled)
		flush = kvm_tdp_mmu_zap_leafs(kvm, gfn_start, gfn_end, flush);
	if (flush)
		kvm_flush_remote_tlbs_range(kvm, gfn_start, gfn_end - gfn_start);
	kvm_mmu_invalidate_end(kvm);
	write_unlock(&kvm->mmu_lock);
}

/* Zap everything (VM teardown / notifier release), yielding between pages. */
static void kvm_mmu_zap_all(struct kvm *kvm)
{
	struct kvm_mmu_page *sp, *node;
	LIST_HEAD(invalid_list);
	int ign;

	write_lock(&kvm->mmu_lock);
restart:
	list_for_each_entry_safe(sp, node, &kvm->arch.active_mmu_pages, link) {
		if (WARN_ON_ONCE(sp->role.invalid))
			continue;
		if (__kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list, &ign))
			goto restart;
		if (cond_resched_rwlock_write(&kvm->mmu_lock))
			goto restart;
	}
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
	if (tdp_mmu_enabled)
		kvm_tdp_mmu_zap_all(kvm);
	write_unlock(&kvm->mmu_lock);
}

void kvm_arch_flush_shadow_all(struct kvm *kvm)
{
	kvm_mmu_zap_all(kvm);
}

static void kvm_mmu_zap_memslot_pages_and_flush(struct kvm *kvm, struct kvm_memory_slot *slot,
						bool flush)
{
	LIST_HEAD(invalid_list);
	struct kvm_mmu_page *sp;
	unsigned long i;

	if (!kvm->arch.indirect_shadow_pages)
		goto out_flush;
	for (i = 0; i < slot->npages; i++)
		for_each_gfn_valid_sp_with_gptes(kvm, sp, slot->base_gfn + i)
			flush |= kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list);
out_flush:
	kvm_mmu_remote_flush_or_zap(kvm, &invalid_list, flush);
}

/* Zap only what maps or shadows @slot (the default for memslot deletion in 6.x). */
static void kvm_mmu_zap_memslot(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	struct kvm_gfn_range range = {
		.slot = slot,
		.start = slot->base_gfn,
		.end = slot->base_gfn + slot->npages,
		.may_block = true,
	};
	bool flush;

	write_lock(&kvm->mmu_lock);
	flush = kvm_unmap_gfn_range(kvm, &range);
	kvm_mmu_zap_memslot_pages_and_flush(kvm, slot, flush);
	write_unlock(&kvm->mmu_lock);
}

static inline bool kvm_memslot_flush_zap_all(struct kvm *kvm)
{
	return kvm->arch.vm_type == KVM_X86_DEFAULT_VM &&
	       kvm_check_has_quirk(kvm, KVM_X86_QUIRK_SLOT_ZAP_ALL);
}

void kvm_arch_flush_shadow_memslot(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	if (kvm_memslot_flush_zap_all(kvm))
		kvm_mmu_zap_all_fast(kvm);
	else
		kvm_mmu_zap_memslot(kvm, slot);
}

void kvm_mmu_invalidate_mmio_sptes(struct kvm *kvm, u64 gen)
{
	/* the MMIO generation wrapped: old MMIO SPTEs could look current again */
	if (unlikely(gen == 0))
		kvm_mmu_zap_all_fast(kvm);
}

static int set_nx_huge_pages(const char *val, const struct kernel_param *kp)
{
	bool new_val;
	struct kvm *kvm;

	if (kstrtobool(val, &new_val) < 0)
		return -EINVAL;
	if (new_val != nx_huge_pages) {
		mutex_lock(&kvm_lock);
		list_for_each_entry(kvm, &vm_list, vm_list) {
			mutex_lock(&kvm->slots_lock);
			kvm_mmu_zap_all_fast(kvm);
			mutex_unlock(&kvm->slots_lock);
		}
		mutex_unlock(&kvm_lock);
	}
	nx_huge_pages = new_val;
	return 0;
}

int kvm_mmu_create(struct kvm_vcpu *vcpu)
{
	vcpu->arch.mmu = &vcpu->arch.root_mmu;
	vcpu->arch.walk_mmu = &vcpu->arch.root_mmu;
	return __kvm_mmu_create(vcpu, &vcpu->arch.root_mmu);
}

void kvm_mmu_destroy(struct kvm_vcpu *vcpu)
{
	kvm_mmu_unload(vcpu);
	free_mmu_pages(&vcpu->arch.root_mmu);
	free_mmu_pages(&vcpu->arch.guest_mmu);
	mmu_free_memory_caches(vcpu);
}

static int mmu_topup_memory_caches(struct kvm_vcpu *vcpu, bool maybe_indirect)
{
	int r;

	r = kvm_mmu_topup_memory_cache(&vcpu->arch.mmu_pte_list_desc_cache, 1 + PT64_ROOT_MAX_LEVEL);
	if (r)
		return r;
	r = kvm_mmu_topup_memory_cache(&vcpu->arch.mmu_shadow_page_cache, PT64_ROOT_MAX_LEVEL);
	if (r)
		return r;
	return kvm_mmu_topup_memory_cache(&vcpu->arch.mmu_page_header_cache, PT64_ROOT_MAX_LEVEL);
}

static bool is_tdp_mmu_active(struct kvm_vcpu *vcpu)
{
	return tdp_mmu_enabled && vcpu->arch.mmu->root_role.direct;
}

static int fast_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	u64 *sptep;
	u64 spte;

	if (!page_fault_can_be_fast(vcpu->kvm, fault))
		return RET_PF_INVALID;
	walk_shadow_page_lockless_begin(vcpu);
	if (is_tdp_mmu_active(vcpu))
		sptep = kvm_tdp_mmu_fast_pf_get_last_sptep(vcpu, fault->gfn, &spte);
	else
		sptep = fast_pf_get_last_sptep(vcpu, fault->addr, &spte);
	walk_shadow_page_lockless_end(vcpu);
	return sptep ? RET_PF_SPURIOUS : RET_PF_INVALID;
}

/*
 * Sync-path helpers (skeletons for the extension's demo tree). mmu_sync_children write-protects
 * the gfn of every page in a batch before the pages become sync again, so that the guest's next
 * write to such a table faults and is tracked; one remote flush covers the whole batch.
 */
bool kvm_mmu_slot_gfn_write_protect(struct kvm *kvm, struct kvm_memory_slot *slot,
				    u64 gfn, int min_level)
{
	bool changed = false;
	int level;

	for (level = min_level; level <= KVM_MAX_HUGEPAGE_LEVEL; level++)
		changed |= rmap_write_protect(gfn_to_rmap(gfn, level, slot), true);
	return changed;
}

static bool kvm_vcpu_write_protect_gfn(struct kvm_vcpu *vcpu, u64 gfn)
{
	struct kvm_memory_slot *slot = kvm_vcpu_gfn_to_memslot(vcpu, gfn);

	return kvm_mmu_slot_gfn_write_protect(vcpu->kvm, slot, gfn, PG_LEVEL_4K);
}

/* Re-read every guest entry of sp; a negative result asks the caller to zap sp. */
static int __kvm_sync_page(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp)
{
	bool flush = false;
	int i;

	for (i = 0; i < SPTE_ENT_PER_PAGE; i++)
		flush |= kvm_sync_spte(vcpu, sp, i) > 0;
	return flush;
}
