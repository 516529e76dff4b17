// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Building SPTE values. Only the calls that matter to the simulator are kept.
 */
#include "mmu.h"
#include "mmu_internal.h"
#include "spte.h"

u64 __read_mostly shadow_host_writable_mask;
u64 __read_mostly shadow_mmu_writable_mask;
u64 __read_mostly shadow_accessed_mask;
u64 __read_mostly shadow_dirty_mask;

static u64 generation_mmio_spte_mask(u64 gen)
{
	/* split the memslot generation over the two MMIO generation fields */
	return (gen << MMIO_SPTE_GEN_LOW_START) & MMIO_SPTE_GEN_MASK;
}

u64 make_mmio_spte(struct kvm_vcpu *vcpu, u64 gfn, unsigned int access)
{
	u64 gen = kvm_vcpu_memslots(vcpu)->generation & MMIO_SPTE_GEN_MASK;

	return generation_mmio_spte_mask(gen) | shadow_mmio_value | (gfn << PAGE_SHIFT);
}

/*
 * Build a leaf SPTE for @pfn. A writable mapping of a gfn that is shadowed as a guest page table
 * is only allowed if the shadow pages can be marked unsync; otherwise it is made read-only.
 */
bool make_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, const struct kvm_memory_slot *slot,
	       unsigned int pte_access, gfn_t gfn, kvm_pfn_t pfn, u64 old_spte, bool prefetch,
	       bool synchronizing, bool host_writable, u64 *new_spte)
{
	int level = sp->role.level;
	u64 spte = SPTE_MMU_PRESENT_MASK;
	bool wrprot = false;

	if (sp->role.ad_disabled)
		spte |= SPTE_TDP_AD_DISABLED;
	if (level > PG_LEVEL_4K)
		spte |= PT_PAGE_SIZE_MASK;
	spte |= (u64)pfn << PAGE_SHIFT;

	if (pte_access & ACC_WRITE_MASK) {
		spte |= PT_WRITABLE_MASK | shadow_mmu_writable_mask;
		if (mmu_try_to_unsync_pages(vcpu->kvm, slot, gfn, synchronizing, prefetch)) {
			wrprot = true;
			spte &= ~(PT_WRITABLE_MASK | shadow_mmu_writable_mask);
		}
	}
	if (pte_access & ACC_WRITE_MASK && !wrprot)
		mark_page_dirty_in_slot(vcpu->kvm, slot, gfn);

	*new_spte = spte;
	return wrprot;
}

u64 make_nonleaf_spte(u64 *child_pt, bool ad_disabled)
{
	u64 spte = SPTE_MMU_PRESENT_MASK;

	spte |= __pa(child_pt) | shadow_present_mask | PT_WRITABLE_MASK | shadow_user_mask | shadow_x_mask;
	if (ad_disabled)
		spte |= SPTE_TDP_AD_DISABLED;
	else
		spte |= shadow_accessed_mask;
	return spte;
}

u64 mark_spte_for_access_track(u64 spte)
{
	if (spte_ad_enabled(spte))
		return spte & ~shadow_accessed_mask;
	/* without hardware A/D bits, make the SPTE non-present to catch the next access */
	return spte & ~shadow_acc_track_mask;
}

void kvm_mmu_reset_all_pte_masks(void)
{
	shadow_user_mask = PT_USER_MASK;
	shadow_accessed_mask = PT_ACCESSED_MASK;
	shadow_dirty_mask = PT_DIRTY_MASK;
	kvm_mmu_set_mmio_spte_mask(0, 0, ACC_WRITE_MASK | ACC_USER_MASK);
}
