/* KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE). */
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Generic KVM declarations the x86 MMU relies on: requests, the VM struct's MMU fields,
 * memslots and the invalidation retry helpers.
 */
#ifndef __KVM_HOST_H
#define __KVM_HOST_H

#include <linux/types.h>
#include <linux/rwlock.h>
#include <linux/mutex.h>
#include <linux/srcu.h>

/* Request bits with flags in the high bits. */
#define KVM_REQUEST_MASK		GENMASK(7, 0)
#define KVM_REQUEST_NO_WAKEUP		BIT(8)
#define KVM_REQUEST_WAIT		BIT(9)
#define KVM_REQUEST_NO_ACTION		BIT(10)

#define KVM_REQ_TLB_FLUSH		(0 | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)
#define KVM_REQ_VM_DEAD			(1 | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)
#define KVM_REQ_UNBLOCK			2
#define KVM_REQ_DIRTY_RING_SOFT_FULL	3
#define KVM_REQUEST_ARCH_BASE		8

#define KVM_ARCH_REQ_FLAGS(nr, flags) ({ \
	BUILD_BUG_ON((unsigned)(nr) >= 32 - KVM_REQUEST_ARCH_BASE); \
	(unsigned)(((nr) + KVM_REQUEST_ARCH_BASE) | (flags)); \
})
#define KVM_ARCH_REQ(nr)		KVM_ARCH_REQ_FLAGS(nr, 0)

/* x86 takes mmu_lock as an rwlock; generic code always takes it for write. */
#define KVM_MMU_LOCK_INIT(kvm)		rwlock_init(&(kvm)->mmu_lock)
#define KVM_MMU_LOCK(kvm)		write_lock(&(kvm)->mmu_lock)
#define KVM_MMU_UNLOCK(kvm)		write_unlock(&(kvm)->mmu_lock)

struct kvm_memory_slot {
	struct hlist_node id_node[2];
	struct interval_tree_node hva_node[2];
	struct rb_node gfn_node[2];
	gfn_t base_gfn;
	unsigned long npages;
	unsigned long *dirty_bitmap;
	struct kvm_arch_memory_slot arch;
	unsigned long userspace_addr;
	u32 flags;
	short id;
	u16 as_id;
};

/* A gfn range handed to the arch MMU by the notifier walker. */
struct kvm_gfn_range {
	struct kvm_memory_slot *slot;
	gfn_t start;
	gfn_t end;
	union kvm_mmu_notifier_arg arg;
	enum kvm_gfn_range_filter attr_filter;
	bool may_block;
	bool lockless;
};

struct kvm_vm_stat_generic {
	u64 remote_tlb_flush;
	u64 remote_tlb_flush_requests;
};

struct kvm_vcpu {
	struct kvm *kvm;
	int cpu;
	int vcpu_id;
	int mode;
	/* pending KVM_REQ_* bits, tested on every guest entry */
	u64 requests;
	struct kvm_vcpu_stat stat;
	struct kvm_vcpu_arch arch;
};

struct kvm {
	rwlock_t mmu_lock;
	struct mutex slots_lock;
	struct mm_struct *mm;
	struct kvm_memslots __memslots[KVM_MAX_NR_ADDRESS_SPACES][2];
	struct kvm_vcpu *vcpu_array[KVM_MAX_VCPUS];
	atomic_t online_vcpus;
	struct srcu_struct srcu;
	struct kvm_arch arch;
	struct kvm_vm_stat stat;

	/* MMU notifier bookkeeping: sequence, in-progress count and the union of pending ranges. */
	struct mmu_notifier mmu_notifier;
	unsigned long mmu_invalidate_seq;
	long mmu_invalidate_in_progress;
	gfn_t mmu_invalidate_range_start;
	gfn_t mmu_invalidate_range_end;
	/* memslot updates wait while an invalidation is between start and end */
	unsigned long mn_active_invalidate_count;
	struct rcuwait mn_memslots_update_rcuwait;
	spinlock_t mn_invalidate_lock;
};

void kvm_flush_remote_tlbs(struct kvm *kvm);
bool kvm_make_all_cpus_request(struct kvm *kvm, unsigned int req);
void kvm_mmu_invalidate_begin(struct kvm *kvm);
void kvm_mmu_invalidate_range_add(struct kvm *kvm, gfn_t start, gfn_t end);
void kvm_mmu_invalidate_end(struct kvm *kvm);
bool kvm_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range);
bool kvm_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range);
bool kvm_test_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range);

static inline void kvm_make_request(int req, struct kvm_vcpu *vcpu)
{
	/* publish the payload before the request bit */
	smp_wmb();
	set_bit(req & KVM_REQUEST_MASK, (void *)&vcpu->requests);
}

static inline bool kvm_check_request(int req, struct kvm_vcpu *vcpu)
{
	if (!kvm_test_request(req, vcpu))
		return false;
	kvm_clear_request(req, vcpu);
	smp_mb__after_atomic();
	return true;
}

/*
 * Must be called with mmu_lock held. A fault that sampled mmu_seq before resolving its pfn retries
 * when an invalidation covering its gfn is running, or when any invalidation finished meanwhile.
 */
static inline int mmu_invalidate_retry_gfn(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn)
{
	lockdep_assert_held(&kvm->mmu_lock);
	if (unlikely(kvm->mmu_invalidate_in_progress)) {
		if (WARN_ON_ONCE(kvm->mmu_invalidate_range_start == INVALID_GPA ||
				 kvm->mmu_invalidate_range_end == INVALID_GPA))
			return 1;
		if (gfn >= kvm->mmu_invalidate_range_start &&
		    gfn < kvm->mmu_invalidate_range_end)
			return 1;
	}
	if (kvm->mmu_invalidate_seq != mmu_seq)
		return 1;
	return 0;
}

/* Plain retry check (no range): any in-progress invalidation or a moved sequence retries. */
static inline int mmu_invalidate_retry(struct kvm *kvm, unsigned long mmu_seq)
{
	if (unlikely(kvm->mmu_invalidate_in_progress))
		return 1;
	smp_rmb();
	if (kvm->mmu_invalidate_seq != mmu_seq)
		return 1;
	return 0;
}

/* Lockless early check; can miss a concurrent start, so the locked check above still follows. */
static inline bool mmu_invalidate_retry_gfn_unsafe(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn)
{
	if (READ_ONCE(kvm->mmu_invalidate_in_progress) &&
	    gfn >= kvm->mmu_invalidate_range_start &&
	    gfn < kvm->mmu_invalidate_range_end)
		return true;
	return READ_ONCE(kvm->mmu_invalidate_seq) != mmu_seq;
}

static inline struct kvm_memslots *kvm_memslots(struct kvm *kvm)
{
	return __kvm_memslots(kvm, 0);
}

#endif /* __KVM_HOST_H */
