/* KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE). */
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * SPTE layout: software bits, masks and the small predicates both MMUs use.
 */
#ifndef KVM_X86_MMU_SPTE_H
#define KVM_X86_MMU_SPTE_H

#include "mmu.h"
#include "mmu_internal.h"

/* Software "present" bit, so that a zero SPTE is never present even with all-zero masks. */
#define SPTE_MMU_PRESENT_MASK		BIT_ULL(11)

/* How accessed/dirty tracking works for this SPTE (two bits). */
#define SPTE_TDP_AD_SHIFT		52
#define SPTE_TDP_AD_MASK		(3ULL << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_ENABLED		(0ULL << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_DISABLED		(1ULL << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_WRPROT_ONLY		(2ULL << SPTE_TDP_AD_SHIFT)

#define SPTE_BASE_ADDR_MASK		(physical_mask & ~(u64)(PAGE_SIZE - 1))
#define SPTE_PERM_MASK			(PT_PRESENT_MASK | PT_WRITABLE_MASK | shadow_user_mask | \
					 shadow_x_mask | shadow_nx_mask | shadow_me_mask)

#define ACC_EXEC_MASK			1
#define ACC_WRITE_MASK			PT_WRITABLE_MASK
#define ACC_USER_MASK			PT_USER_MASK
#define ACC_ALL				(ACC_EXEC_MASK | ACC_WRITE_MASK | ACC_USER_MASK)

/* Writable-tracking bits: host says it may be writable / the MMU says it may be made writable. */
#define DEFAULT_SPTE_HOST_WRITABLE	BIT_ULL(9)
#define DEFAULT_SPTE_MMU_WRITABLE	BIT_ULL(10)

/* MMIO SPTEs carry a generation so that memslot changes invalidate them for free. */
#define MMIO_SPTE_GEN_LOW_START		3
#define MMIO_SPTE_GEN_LOW_END		10
#define MMIO_SPTE_GEN_HIGH_START	52
#define MMIO_SPTE_GEN_HIGH_END		62
#define MMIO_SPTE_GEN_MASK		GENMASK_ULL(MMIO_SPTE_GEN_LOW_END - MMIO_SPTE_GEN_LOW_START + \
						    MMIO_SPTE_GEN_HIGH_END - MMIO_SPTE_GEN_HIGH_START + 1, 0)

/* A TDP SPTE being replaced under the read lock holds this value meanwhile. */
#define FROZEN_SPTE			(SHADOW_NONPRESENT_VALUE | 0x5a0ULL)
#define SHADOW_NONPRESENT_VALUE		0ULL

#define SPTE_LEVEL_BITS			9
#define SPTE_ENT_PER_PAGE		(1 << SPTE_LEVEL_BITS)
#define SPTE_INDEX(address, level)	(((address) >> (PAGE_SHIFT + ((level) - 1) * SPTE_LEVEL_BITS)) & \
					 (SPTE_ENT_PER_PAGE - 1))

extern u64 __read_mostly shadow_host_writable_mask;
extern u64 __read_mostly shadow_mmu_writable_mask;
extern u64 __read_mostly shadow_nx_mask;
extern u64 __read_mostly shadow_x_mask;
extern u64 __read_mostly shadow_user_mask;
extern u64 __read_mostly shadow_accessed_mask;
extern u64 __read_mostly shadow_dirty_mask;
extern u64 __read_mostly shadow_mmio_value;
extern u64 __read_mostly shadow_mmio_mask;
extern u64 __read_mostly shadow_me_mask;
extern u64 __read_mostly shadow_acc_track_mask;

static inline bool is_frozen_spte(u64 spte)
{
	return spte == FROZEN_SPTE;
}

static inline bool is_mmio_spte(struct kvm *kvm, u64 spte)
{
	return (spte & shadow_mmio_mask) == kvm->arch.shadow_mmio_value && likely(enable_mmio_caching);
}

static inline bool is_shadow_present_pte(u64 pte)
{
	return !!(pte & SPTE_MMU_PRESENT_MASK);
}

static inline bool is_large_pte(u64 pte)
{
	return pte & PT_PAGE_SIZE_MASK;
}

static inline bool is_last_spte(u64 pte, int level)
{
	return (level == PG_LEVEL_4K) || is_large_pte(pte);
}

static inline bool is_writable_pte(unsigned long pte)
{
	return pte & PT_WRITABLE_MASK;
}

static inline bool is_accessed_spte(u64 spte)
{
	return spte & shadow_accessed_mask;
}

static inline bool is_dirty_spte(u64 spte)
{
	return spte & shadow_dirty_mask;
}

static inline kvm_pfn_t spte_to_pfn(u64 pte)
{
	return (pte & SPTE_BASE_ADDR_MASK) >> PAGE_SHIFT;
}

static inline struct kvm_mmu_page *to_shadow_page(hpa_t shadow_page)
{
	struct page *page = pfn_to_page((shadow_page) >> PAGE_SHIFT);

	return (struct kvm_mmu_page *)page_private(page);
}

static inline struct kvm_mmu_page *spte_to_child_sp(u64 spte)
{
	return to_shadow_page(spte & SPTE_BASE_ADDR_MASK);
}

static inline struct kvm_mmu_page *sptep_to_sp(u64 *sptep)
{
	return to_shadow_page(__pa(sptep));
}

static inline struct kvm_mmu_page *root_to_sp(hpa_t root)
{
	if (kvm_mmu_is_dummy_root(root))
		return NULL;
	/* the root's struct page points back at its header */
	return spte_to_child_sp(root);
}

static inline bool spte_ad_enabled(u64 spte)
{
	return (spte & SPTE_TDP_AD_MASK) != SPTE_TDP_AD_DISABLED;
}

bool make_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, const struct kvm_memory_slot *slot,
	       unsigned int pte_access, gfn_t gfn, kvm_pfn_t pfn, u64 old_spte, bool prefetch,
	       bool synchronizing, bool host_writable, u64 *new_spte);
u64 make_nonleaf_spte(u64 *child_pt, bool ad_disabled);
u64 make_mmio_spte(struct kvm_vcpu *vcpu, u64 gfn, unsigned int access);
u64 mark_spte_for_access_track(u64 spte);

#endif
