// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * TDP MMU: roots on kvm->arch.tdp_mmu_roots with a refcount, SPTE changes under mmu_lock held for
 * read (atomic exchanges) and page tables freed through RCU. Bodies keep only the calls.
 */
#include "mmu.h"
#include "mmu_internal.h"
#include "tdp_iter.h"
#include "tdp_mmu.h"
#include "spte.h"

void kvm_mmu_init_tdp_mmu(struct kvm *kvm)
{
	INIT_LIST_HEAD(&kvm->arch.tdp_mmu_roots);
	spin_lock_init(&kvm->arch.tdp_mmu_pages_lock);
}

void kvm_mmu_uninit_tdp_mmu(struct kvm *kvm)
{
	/* invalidate and zap whatever roots are left; mmu_lock is not needed at teardown */
	kvm_tdp_mmu_invalidate_roots(kvm, KVM_VALID_ROOTS);
	kvm_tdp_mmu_zap_invalidated_roots(kvm, false);
	WARN_ON(atomic64_read(&kvm->arch.tdp_mmu_pages));
	WARN_ON(!list_empty(&kvm->arch.tdp_mmu_roots));
	rcu_barrier();
}

static void tdp_mmu_free_sp(struct kvm_mmu_page *sp)
{
	free_page((unsigned long)sp->spt);
	kmem_cache_free(mmu_page_header_cache, sp);
}

static void tdp_mmu_free_sp_rcu_callback(struct rcu_head *head)
{
	struct kvm_mmu_page *sp = container_of(head, struct kvm_mmu_page, rcu_head);

	tdp_mmu_free_sp(sp);
}

/* Drop one reference; the last one unlinks the root and frees it after a grace period. */
void kvm_tdp_mmu_put_root(struct kvm *kvm, struct kvm_mmu_page *root)
{
	if (!refcount_dec_and_test(&root->tdp_mmu_root_count))
		return;

	KVM_BUG_ON(!is_tdp_mmu_page(root) || !root->role.invalid, kvm);

	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
	list_del_rcu(&root->link);
	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
	call_rcu(&root->rcu_head, tdp_mmu_free_sp_rcu_callback);
}

static bool tdp_mmu_root_match(struct kvm_mmu_page *root, enum kvm_tdp_mmu_root_types types)
{
	if (root->role.invalid && !(types & KVM_INVALID_ROOTS))
		return false;
	return true;
}

/*
 * Iterator step: take a reference on the next matching root, then drop the one on @prev_root.
 * The list is walked under RCU so that a root freed meanwhile is still safe to step over.
 */
static struct kvm_mmu_page *tdp_mmu_next_root(struct kvm *kvm, struct kvm_mmu_page *prev_root,
					      enum kvm_tdp_mmu_root_types types)
{
	struct kvm_mmu_page *next_root;

	rcu_read_lock();
	if (prev_root)
		next_root = list_next_or_null_rcu(&kvm->arch.tdp_mmu_roots, &prev_root->link,
						  typeof(*prev_root), link);
	else
		next_root = list_first_or_null_rcu(&kvm->arch.tdp_mmu_roots, typeof(*next_root), link);

	while (next_root) {
		if (tdp_mmu_root_match(next_root, types) && kvm_tdp_mmu_get_root(next_root))
			break;
		next_root = list_next_or_null_rcu(&kvm->arch.tdp_mmu_roots, &next_root->link,
						  typeof(*next_root), link);
	}
	rcu_read_unlock();

	if (prev_root)
		kvm_tdp_mmu_put_root(kvm, prev_root);
	return next_root;
}

/* Walk roots holding a reference, so the body may drop mmu_lock (yield) safely. */
#define __for_each_tdp_mmu_root_yield_safe(_kvm, _root, _as_id, _types)		\
	for (_root = tdp_mmu_next_root(_kvm, NULL, _types);				\
	     ({ lockdep_assert_held(&(_kvm)->mmu_lock); }), _root;			\
	     _root = tdp_mmu_next_root(_kvm, _root, _types))				\
		if (_as_id >= 0 && kvm_mmu_page_as_id(_root) != _as_id) {		\
		} else

#define for_each_valid_tdp_mmu_root_yield_safe(_kvm, _root, _as_id)		\
	__for_each_tdp_mmu_root_yield_safe(_kvm, _root, _as_id, KVM_VALID_ROOTS)

#define for_each_tdp_mmu_root_yield_safe(_kvm, _root)				\
	for (_root = tdp_mmu_next_root(_kvm, NULL, KVM_ALL_ROOTS);			\
	     ({ lockdep_assert_held(&(_kvm)->mmu_lock); }), _root;			\
	     _root = tdp_mmu_next_root(_kvm, _root, KVM_ALL_ROOTS))

/* Walk roots without references: the body must not yield. */
#define __for_each_tdp_mmu_root(_kvm, _root, _as_id, _types)			\
	list_for_each_entry(_root, &_kvm->arch.tdp_mmu_roots, link)		\
		if (kvm_lockdep_assert_mmu_lock_held(_kvm, false) &&		\
		    ((_as_id >= 0 && kvm_mmu_page_as_id(_root) != _as_id) ||	\
		     !tdp_mmu_root_match((_root), (_types)))) {			\
		} else

#define for_each_tdp_mmu_root_rcu(_kvm, _root, _as_id, _types)			\
	list_for_each_entry_rcu(_root, &_kvm->arch.tdp_mmu_roots, link)	\
		if ((_as_id >= 0 && kvm_mmu_page_as_id(_root) != _as_id) ||	\
		    !tdp_mmu_root_match((_root), (_types))) {			\
		} else

#define for_each_valid_tdp_mmu_root(_kvm, _root, _as_id)			\
	__for_each_tdp_mmu_root(_kvm, _root, _as_id, KVM_VALID_ROOTS)

#define tdp_root_for_each_pte(_iter, _kvm, _root, _start, _end)		\
	for_each_tdp_pte(_iter, _kvm, _root, _start, _end)

#define tdp_root_for_each_leaf_pte(_iter, _kvm, _root, _start, _end)		\
	tdp_root_for_each_pte(_iter, _kvm, _root, _start, _end)		\
		if (!is_shadow_present_pte(_iter.old_spte) ||			\
		    !is_last_spte(_iter.old_spte, _iter.level))		\
			continue;						\
		else

static struct kvm_mmu_page *tdp_mmu_alloc_sp(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu_page *sp;

	sp = kvm_mmu_memory_cache_alloc(&vcpu->arch.mmu_page_header_cache);
	sp->spt = kvm_mmu_memory_cache_alloc(&vcpu->arch.mmu_shadow_page_cache);
	return sp;
}

static void tdp_mmu_init_sp(struct kvm_mmu_page *sp, tdp_ptep_t sptep, gfn_t gfn,
			    union kvm_mmu_page_role role)
{
	set_page_private(virt_to_page(sp->spt), (unsigned long)sp);
	sp->role = role;
	sp->gfn = gfn;
	sp->ptep = sptep;
	sp->tdp_mmu_page = true;
}

/* Find a valid root with the vCPU's role, or make one. A new root starts with two references. */
void kvm_tdp_mmu_alloc_root(struct kvm_vcpu *vcpu, bool mirror)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	union kvm_mmu_page_role role = mmu->root_role;
	struct kvm *kvm = vcpu->kvm;
	struct kvm_mmu_page *root;

	read_lock(&kvm->mmu_lock);
	for_each_valid_tdp_mmu_root_yield_safe(kvm, root, kvm_mmu_role_as_id(role)) {
		if (root->role.word == role.word)
			goto out_read_unlock;
	}

	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
	root = tdp_mmu_alloc_sp(vcpu);
	tdp_mmu_init_sp(root, NULL, 0, role);
	/* one reference for the vCPU, one owned by the TDP MMU until the root is invalidated */
	refcount_set(&root->tdp_mmu_root_count, 2);
	list_add_rcu(&root->link, &kvm->arch.tdp_mmu_roots);
	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);

out_read_unlock:
	read_unlock(&kvm->mmu_lock);
	mmu->root.hpa = __pa(root->spt);
}

static void tdp_mmu_unlink_sp(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	atomic64_dec(&kvm->arch.tdp_mmu_pages);
	if (sp->nx_huge_page_disallowed)
		untrack_possible_nx_huge_page(kvm, sp, KVM_TDP_MMU);
}

/* A page table was disconnected: zap its entries and free it after an RCU grace period. */
static void handle_removed_pt(struct kvm *kvm, tdp_ptep_t pt, bool shared)
{
	struct kvm_mmu_page *sp = sptep_to_sp(rcu_dereference(pt));
	int i;

	tdp_mmu_unlink_sp(kvm, sp);
	for (i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 old_spte = kvm_tdp_mmu_write_spte(pt + i, 0, FROZEN_SPTE, sp->role.level);

		handle_changed_spte(kvm, sp->role, sp->gfn, old_spte, FROZEN_SPTE, sp->role.level, shared);
	}
	call_rcu(&sp->rcu_head, tdp_mmu_free_sp_rcu_callback);
}

/* Bookkeeping after an SPTE changed: stats, dirty log, freeing a removed child table. */
static void handle_changed_spte(struct kvm *kvm, union kvm_mmu_page_role role, gfn_t gfn,
				u64 old_spte, u64 new_spte, int level, bool shared)
{
	bool was_present = is_shadow_present_pte(old_spte);
	bool was_leaf = was_present && is_last_spte(old_spte, level);

	if (was_present && !was_leaf && !is_shadow_present_pte(new_spte))
		handle_removed_pt(kvm, spte_to_child_pt(old_spte, level), shared);
	if (was_leaf && is_dirty_spte(old_spte))
		kvm_set_pfn_dirty(spte_to_pfn(old_spte));
}

/* Read-lock path: install @new_spte only if the SPTE still holds iter->old_spte. */
static inline int __must_check tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter,
						       u64 new_spte)
{
	lockdep_assert_held_read(&kvm->mmu_lock);
	if (!try_cmpxchg64(rcu_dereference(iter->sptep), &iter->old_spte, new_spte))
		return -EBUSY;
	handle_changed_spte(kvm, iter->as_id, iter->gfn, iter->old_spte, new_spte, iter->level, true);
	return 0;
}

/* Write-lock path: plain store, then bookkeeping. */
static u64 tdp_mmu_set_spte(struct kvm *kvm, int as_id, tdp_ptep_t sptep, u64 old_spte,
			    u64 new_spte, gfn_t gfn, int level)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	old_spte = kvm_tdp_mmu_write_spte(sptep, old_spte, new_spte, level);
	handle_changed_spte(kvm, as_id, gfn, old_spte, new_spte, level, false);
	return old_spte;
}

/* Maybe yield mmu_lock; flushes first if asked. Returns true if it yielded. */
static inline bool __must_check tdp_mmu_iter_cond_resched(struct kvm *kvm, struct tdp_iter *iter,
							  bool flush, bool shared)
{
	if (!need_resched() && !rwlock_needbreak(&kvm->mmu_lock))
		return false;
	if (flush)
		kvm_flush_remote_tlbs(kvm);
	rcu_read_unlock();
	if (shared)
		cond_resched_rwlock_read(&kvm->mmu_lock);
	else
		cond_resched_rwlock_write(&kvm->mmu_lock);
	rcu_read_lock();
	iter->yielded = true;
	return true;
}

static void __tdp_mmu_zap_root(struct kvm *kvm, struct kvm_mmu_page *root, bool shared,
			       int zap_level)
{
	struct tdp_iter iter;

	for_each_tdp_pte_min_level(iter, kvm, root, zap_level, 0, tdp_mmu_max_gfn_exclusive()) {
		if (tdp_mmu_iter_cond_resched(kvm, &iter, false, shared))
			continue;
		if (!shared)
			tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE);
		else if (tdp_mmu_set_spte_atomic(kvm, &iter, SHADOW_NONPRESENT_VALUE))
			goto retry;
	}
}

static void tdp_mmu_zap_root(struct kvm *kvm, struct kvm_mmu_page *root, bool shared)
{
	/* zap top-down in two passes so that no single step frees a huge subtree */
	rcu_read_lock();
	__tdp_mmu_zap_root(kvm, root, shared, PG_LEVEL_1G);
	__tdp_mmu_zap_root(kvm, root, shared, root->role.level);
	rcu_read_unlock();
}

static bool tdp_mmu_zap_leafs(struct kvm *kvm, struct kvm_mmu_page *root, gfn_t start, gfn_t end,
			      bool can_yield, bool flush)
{
	struct tdp_iter iter;

	rcu_read_lock();
	for_each_tdp_pte_min_level(iter, kvm, root, PG_LEVEL_4K, start, end) {
		if (can_yield && tdp_mmu_iter_cond_resched(kvm, &iter, flush, false)) {
			flush = false;
			continue;
		}
		tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE);
		flush = true;
	}
	rcu_read_unlock();
	return flush;
}

/* Zap leaf SPTEs in [start, end) of every valid root (write lock). */
bool kvm_tdp_mmu_zap_leafs(struct kvm *kvm, gfn_t start, gfn_t end, bool flush)
{
	struct kvm_mmu_page *root;

	lockdep_assert_held_write(&kvm->mmu_lock);
	for_each_valid_tdp_mmu_root_yield_safe(kvm, root, -1)
		flush = tdp_mmu_zap_leafs(kvm, root, start, end, true, flush);
	return flush;
}

void kvm_tdp_mmu_zap_all(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	/* valid and invalid roots alike: the VM is going away */
	for_each_tdp_mmu_root_yield_safe(kvm, root)
		tdp_mmu_zap_root(kvm, root, false);
}

/* Zap every root that kvm_tdp_mmu_invalidate_roots() scheduled, then drop the TDP MMU's reference. */
void kvm_tdp_mmu_zap_invalidated_roots(struct kvm *kvm, bool shared)
{
	struct kvm_mmu_page *root;

	if (shared)
		read_lock(&kvm->mmu_lock);
	else
		write_lock(&kvm->mmu_lock);

	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (!root->tdp_mmu_scheduled_root_to_zap)
			continue;
		root->tdp_mmu_scheduled_root_to_zap = false;
		KVM_BUG_ON(!root->role.invalid, kvm);
		tdp_mmu_zap_root(kvm, root, shared);
		kvm_tdp_mmu_put_root(kvm, root);
	}

	if (shared)
		read_unlock(&kvm->mmu_lock);
	else
		write_unlock(&kvm->mmu_lock);
}

/*
 * Mark matching roots invalid so no vCPU loads them again, and schedule each for zapping. No
 * reference is taken here: the TDP MMU's own reference is what keeps the root alive until then.
 */
void kvm_tdp_mmu_invalidate_roots(struct kvm *kvm, enum kvm_tdp_mmu_root_types root_types)
{
	struct kvm_mmu_page *root;

	if (IS_ENABLED(CONFIG_PROVE_LOCKING) && refcount_read(&kvm->users_count))
		lockdep_assert_held_write(&kvm->mmu_lock);

	list_for_each_entry(root, &kvm->arch.tdp_mmu_roots, link) {
		if (!tdp_mmu_root_match(root, root_types))
			continue;
		if (!root->role.invalid) {
			root->tdp_mmu_scheduled_root_to_zap = true;
			root->role.invalid = true;
		}
	}
}

static int tdp_mmu_link_sp(struct kvm *kvm, struct tdp_iter *iter, struct kvm_mmu_page *sp,
			   bool shared)
{
	u64 spte = make_nonleaf_spte(sp->spt, !kvm_ad_enabled);

	if (shared)
		return tdp_mmu_set_spte_atomic(kvm, iter, spte);
	tdp_mmu_iter_set_spte(kvm, iter, spte);
	return 0;
}

/* Fault path: walk down from the root, creating tables as needed, then install the leaf. */
int kvm_tdp_mmu_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_mmu_page *root = tdp_mmu_get_root_for_fault(vcpu, fault);
	struct kvm *kvm = vcpu->kvm;
	struct tdp_iter iter;
	struct kvm_mmu_page *sp;
	int ret = RET_PF_RETRY;

	kvm_mmu_hugepage_adjust(vcpu, fault);
	rcu_read_lock();
	tdp_mmu_for_each_pte(iter, kvm, root, fault->gfn, fault->gfn + 1) {
		if (iter.level == fault->goal_level)
			goto map_target_level;
		if (is_shadow_present_pte(iter.old_spte) && !is_large_pte(iter.old_spte))
			continue;
		sp = tdp_mmu_alloc_sp(vcpu);
		tdp_mmu_init_child_sp(sp, &iter);
		if (tdp_mmu_link_sp(kvm, &iter, sp, true)) {
			tdp_mmu_free_sp(sp);
			goto retry;
		}
	}
map_target_level:
	ret = tdp_mmu_map_handle_target_level(vcpu, fault, &iter);
retry:
	rcu_read_unlock();
	return ret;
}

/* Notifier unmap: also walks invalid roots, whose SPTEs may still map the host page. */
bool kvm_tdp_mmu_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range, bool flush)
{
	struct kvm_mmu_page *root;

	__for_each_tdp_mmu_root_yield_safe(kvm, root, range->slot->as_id, KVM_ALL_ROOTS)
		flush = tdp_mmu_zap_leafs(kvm, root, range->start, range->end, range->may_block, flush);
	return flush;
}

static void kvm_tdp_mmu_age_spte(struct kvm *kvm, struct tdp_iter *iter)
{
	u64 new_spte = mark_spte_for_access_track(iter->old_spte);

	/* no mmu_lock: a lost race only makes the page look young once more */
	iter->old_spte = kvm_tdp_mmu_write_spte_atomic(iter->sptep, new_spte);
}

static bool __kvm_tdp_mmu_age_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range,
					bool test_only)
{
	struct kvm_mmu_page *root;
	struct tdp_iter iter;
	bool ret = false;

	rcu_read_lock();
	for_each_tdp_mmu_root_rcu(kvm, root, range->slot->as_id, KVM_VALID_ROOTS) {
		tdp_root_for_each_leaf_pte(iter, kvm, root, range->start, range->end) {
			if (!is_accessed_spte(iter.old_spte))
				continue;
			if (test_only) {
				ret = true;
				break;
			}
			ret = true;
			kvm_tdp_mmu_age_spte(kvm, &iter);
		}
	}
	rcu_read_unlock();
	return ret;
}

bool kvm_tdp_mmu_age_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return __kvm_tdp_mmu_age_gfn_range(kvm, range, false);
}

bool kvm_tdp_mmu_test_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return __kvm_tdp_mmu_age_gfn_range(kvm, range, true);
}

bool kvm_tdp_mmu_zap_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	struct tdp_iter iter = { .old_spte = sp->ptep ? kvm_tdp_mmu_read_spte(sp->ptep) : 0 };

	lockdep_assert_held_read(&kvm->mmu_lock);
	if (WARN_ON_ONCE(!is_shadow_present_pte(iter.old_spte)))
		return false;
	return tdp_mmu_set_spte_atomic(kvm, &iter, SHADOW_NONPRESENT_VALUE) == 0;
}
