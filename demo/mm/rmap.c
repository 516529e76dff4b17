// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Reverse mapping on the host side: unmapping a page runs the MMU notifiers, which is how KVM
 * learns that a guest mapping must go.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>

static bool try_to_unmap_one(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, void *arg)
{
	struct mmu_notifier_range range;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma->vm_mm, address, address + PAGE_SIZE);
	/* secondary MMUs (KVM) drop their mappings before the host PTE is cleared */
	mmu_notifier_invalidate_range_start(&range);
	ptep_clear_flush(vma, address, pvmw.pte);
	mmu_notifier_invalidate_range_end(&range);
	return true;
}

void try_to_unmap(struct folio *folio, enum ttu_flags flags)
{
	struct rmap_walk_control rwc = {
		.rmap_one = try_to_unmap_one,
		.arg = (void *)flags,
	};

	rmap_walk(folio, &rwc);
}
