// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Generic KVM pieces the x86 MMU depends on: remote TLB flushes, requests to all vCPUs and the
 * MMU-notifier side (invalidate start/end, aging) that calls into the arch MMU.
 */
#include <linux/kvm_host.h>

static bool kvm_request_needs_ipi(struct kvm_vcpu *vcpu, unsigned req)
{
	int mode = kvm_vcpu_exiting_guest_mode(vcpu);

	/* a vCPU outside guest mode sees the request before it enters again */
	if (req & KVM_REQUEST_WAIT)
		return mode != OUTSIDE_GUEST_MODE;
	return mode == IN_GUEST_MODE;
}

static void kvm_make_vcpu_request(struct kvm_vcpu *vcpu, unsigned int req, struct cpumask *tmp,
				  int current_cpu)
{
	__kvm_make_request(req, vcpu);
	if (!(req & KVM_REQUEST_NO_WAKEUP) && kvm_vcpu_wake_up(vcpu))
		return;
	if (kvm_request_needs_ipi(vcpu, req) && vcpu->cpu != current_cpu)
		__cpumask_set_cpu(vcpu->cpu, tmp);
}

/* Set @req on every vCPU, kick those in guest mode and, for WAIT requests, wait for them. */
bool kvm_make_all_cpus_request(struct kvm *kvm, unsigned int req)
{
	struct cpumask *cpus = this_cpu_cpumask_var_ptr(cpu_kick_mask);
	struct kvm_vcpu *vcpu;
	unsigned long i;
	bool called;
	int me = get_cpu();

	cpumask_clear(cpus);
	kvm_for_each_vcpu(i, vcpu, kvm)
		kvm_make_vcpu_request(vcpu, req, cpus, me);
	called = kvm_kick_many_cpus(cpus, !!(req & KVM_REQUEST_WAIT));
	put_cpu();
	return called;
}

void kvm_flush_remote_tlbs(struct kvm *kvm)
{
	++kvm->stat.generic.remote_tlb_flush_requests;
	/* a hypervisor-assisted flush may do it all; otherwise ask every vCPU */
	if (!kvm_arch_flush_remote_tlbs(kvm) ||
	    kvm_make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH))
		++kvm->stat.generic.remote_tlb_flush;
}

/* An invalidation starts: count it; the range is added separately. */
void kvm_mmu_invalidate_begin(struct kvm *kvm)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	kvm->mmu_invalidate_in_progress++;
	if (likely(kvm->mmu_invalidate_in_progress == 1)) {
		kvm->mmu_invalidate_range_start = INVALID_GPA;
		kvm->mmu_invalidate_range_end = INVALID_GPA;
	}
}

void kvm_mmu_invalidate_range_add(struct kvm *kvm, gfn_t start, gfn_t end)
{
	WARN_ON_ONCE(!kvm->mmu_invalidate_in_progress);
	if (likely(kvm->mmu_invalidate_range_start == INVALID_GPA)) {
		kvm->mmu_invalidate_range_start = start;
		kvm->mmu_invalidate_range_end = end;
	} else {
		kvm->mmu_invalidate_range_start = min(kvm->mmu_invalidate_range_start, start);
		kvm->mmu_invalidate_range_end = max(kvm->mmu_invalidate_range_end, end);
	}
}

bool kvm_mmu_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range)
{
	kvm_mmu_invalidate_range_add(kvm, range->start, range->end);
	return kvm_unmap_gfn_range(kvm, range);
}

/* An invalidation ends: bump the sequence first, then drop the count, so faults see one or the other. */
void kvm_mmu_invalidate_end(struct kvm *kvm)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	kvm->mmu_invalidate_seq++;
	smp_wmb();
	kvm->mmu_invalidate_in_progress--;
	KVM_BUG_ON(kvm->mmu_invalidate_in_progress < 0, kvm);
}

/*
 * Walk the memslots overlapping [range->start, range->end) hva; take mmu_lock at the first match
 * (unless lockless), run on_lock once, then the handler per slot; flush if any handler asked.
 */
static __always_inline kvm_mn_ret_t kvm_handle_hva_range(struct kvm *kvm,
							  const struct kvm_mmu_notifier_range *range)
{
	struct kvm_gfn_range gfn_range;
	struct kvm_memory_slot *slot;
	kvm_mn_ret_t r = { .ret = false, .found_memslot = false };
	int i, idx;

	idx = srcu_read_lock(&kvm->srcu);
	for (i = 0; i < kvm_arch_nr_memslot_as_ids(kvm); i++) {
		kvm_for_each_memslot_in_hva_range(node, slots, range->start, range->end - 1) {
			slot = container_of(node, struct kvm_memory_slot, hva_node[slots->node_idx]);
			gfn_range.start = hva_to_gfn_memslot(range->start, slot);
			gfn_range.end = hva_to_gfn_memslot(range->end + PAGE_SIZE - 1, slot);
			gfn_range.slot = slot;
			if (!r.found_memslot) {
				r.found_memslot = true;
				if (!range->lockless) {
					KVM_MMU_LOCK(kvm);
					if (!IS_KVM_NULL_FN(range->on_lock))
						range->on_lock(kvm);
				}
			}
			r.ret |= range->handler(kvm, &gfn_range);
		}
	}
	if (range->flush_on_ret && r.ret)
		kvm_flush_remote_tlbs(kvm);
	if (r.found_memslot && !range->lockless)
		KVM_MMU_UNLOCK(kvm);
	srcu_read_unlock(&kvm->srcu, idx);
	return r;
}

static __always_inline int kvm_age_hva_range(struct mmu_notifier *mn, unsigned long start,
					     unsigned long end, gfn_handler_t handler,
					     bool flush_on_ret)
{
	struct kvm *kvm = mmu_notifier_to_kvm(mn);
	const struct kvm_mmu_notifier_range range = {
		.start = start,
		.end = end,
		.handler = handler,
		.on_lock = (void *)kvm_null_fn,
		.flush_on_ret = flush_on_ret,
		.may_block = false,
		.lockless = IS_ENABLED(CONFIG_KVM_MMU_LOCKLESS_AGING),
	};

	return kvm_handle_hva_range(kvm, &range).ret;
}

static __always_inline int kvm_age_hva_range_no_flush(struct mmu_notifier *mn,
						      unsigned long start, unsigned long end,
						      gfn_handler_t handler)
{
	return kvm_age_hva_range(mn, start, end, handler, false);
}

static int kvm_mmu_notifier_invalidate_range_start(struct mmu_notifier *mn,
						   const struct mmu_notifier_range *range)
{
	struct kvm *kvm = mmu_notifier_to_kvm(mn);
	const struct kvm_mmu_notifier_range hva_range = {
		.start = range->start,
		.end = range->end,
		.handler = kvm_mmu_unmap_gfn_range,
		.on_lock = kvm_mmu_invalidate_begin,
		.flush_on_ret = true,
		.may_block = mmu_notifier_range_blockable(range),
	};

	/* memslot updates must wait until the matching invalidate_range_end */
	spin_lock(&kvm->mn_invalidate_lock);
	kvm->mn_active_invalidate_count++;
	spin_unlock(&kvm->mn_invalidate_lock);

	kvm_handle_hva_range(kvm, &hva_range);
	return 0;
}

static void kvm_mmu_notifier_invalidate_range_end(struct mmu_notifier *mn,
						  const struct mmu_notifier_range *range)
{
	struct kvm *kvm = mmu_notifier_to_kvm(mn);
	const struct kvm_mmu_notifier_range hva_range = {
		.start = range->start,
		.end = range->end,
		.handler = (void *)kvm_null_fn,
		.on_lock = kvm_mmu_invalidate_end,
		.flush_on_ret = false,
		.may_block = mmu_notifier_range_blockable(range),
	};
	bool wake;

	kvm_handle_hva_range(kvm, &hva_range);

	spin_lock(&kvm->mn_invalidate_lock);
	wake = !--kvm->mn_active_invalidate_count;
	spin_unlock(&kvm->mn_invalidate_lock);
	if (wake)
		rcuwait_wake_up(&kvm->mn_memslots_update_rcuwait);
}

static int kvm_mmu_notifier_clear_flush_young(struct mmu_notifier *mn, struct mm_struct *mm,
					      unsigned long start, unsigned long end)
{
	return kvm_age_hva_range(mn, start, end, kvm_age_gfn, !kvm_arch_has_flush_young_hook());
}

static int kvm_mmu_notifier_clear_young(struct mmu_notifier *mn, struct mm_struct *mm,
					unsigned long start, unsigned long end)
{
	/* no TLB flush: a stale young bit only delays reclaim a little */
	return kvm_age_hva_range_no_flush(mn, start, end, kvm_age_gfn);
}

static int kvm_mmu_notifier_test_young(struct mmu_notifier *mn, struct mm_struct *mm,
				       unsigned long address)
{
	return kvm_age_hva_range_no_flush(mn, address, address + 1, kvm_test_age_gfn);
}

static void kvm_mmu_notifier_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct kvm *kvm = mmu_notifier_to_kvm(mn);
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	kvm_flush_shadow_all(kvm);
	srcu_read_unlock(&kvm->srcu, idx);
}

static void kvm_flush_shadow_all(struct kvm *kvm)
{
	kvm_arch_flush_shadow_all(kvm);
	kvm_arch_guest_memory_reclaimed(kvm);
}

/* Generic gfn-range helper (guest_memfd and attribute paths): lock, on_lock, handler, flush. */
static __always_inline bool kvm_handle_gfn_range(struct kvm *kvm, struct kvm_mmu_notifier_range *range)
{
	struct kvm_gfn_range gfn_range;
	bool ret = false, locked = false;

	kvm_for_each_memslot_in_gfn_range(&iter, slots, range->start, range->end) {
		if (!locked) {
			locked = true;
			KVM_MMU_LOCK(kvm);
			if (!IS_KVM_NULL_FN(range->on_lock))
				range->on_lock(kvm);
		}
		ret |= range->handler(kvm, &gfn_range);
	}
	if (range->flush_on_ret && ret)
		kvm_flush_remote_tlbs(kvm);
	if (locked)
		KVM_MMU_UNLOCK(kvm);
	return ret;
}

static void kvm_invalidate_memslot(struct kvm *kvm, struct kvm_memory_slot *old,
				   struct kvm_memory_slot *invalid_slot)
{
	/* hide the slot from vCPUs first, then drop every mapping of it */
	kvm_swap_active_memslots(kvm, old->as_id);
	kvm_arch_flush_shadow_memslot(kvm, old);
	kvm_arch_guest_memory_reclaimed(kvm);
}

/* Userspace memslot ioctl: validate, then create / delete / move / update the slot. */
int kvm_set_memory_region(struct kvm *kvm, const struct kvm_userspace_memory_region2 *mem)
{
	int r;

	mutex_lock(&kvm->slots_lock);
	r = __kvm_set_memory_region(kvm, mem);
	mutex_unlock(&kvm->slots_lock);
	return r;
}

static void kvm_destroy_vm(struct kvm *kvm)
{
	kvm_destroy_pm_notifier(kvm);
	mmu_notifier_unregister(&kvm->mmu_notifier, kvm->mm);
	kvm_arch_destroy_vm(kvm);
	kvm_free_memslots(kvm);
}
