/* KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE). */
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Shadow-paging template: included three times from mmu.c with PTTYPE = 64, 32 and EPT, so every
 * FNAME(x) below exists as paging64_x, paging32_x and ept_x.
 */
#if PTTYPE == 64
	#define pt_element_t u64
	#define guest_walker guest_walker64
	#define FNAME(name) paging##64_##name
	#define PT_LEVEL_BITS 9
	#define PT_MAX_FULL_LEVELS PT64_ROOT_MAX_LEVEL
#elif PTTYPE == 32
	#define pt_element_t u32
	#define guest_walker guest_walker32
	#define FNAME(name) paging##32_##name
	#define PT_LEVEL_BITS 10
	#define PT_MAX_FULL_LEVELS 2
#elif PTTYPE == PTTYPE_EPT
	#define pt_element_t u64
	#define guest_walker guest_walkerEPT
	#define FNAME(name) ept_##name
	#define PT_LEVEL_BITS 9
	#define PT_MAX_FULL_LEVELS PT64_ROOT_MAX_LEVEL
#endif

#define gpte_to_gfn(pte) gpte_to_gfn_lvl((pte), PG_LEVEL_4K)

/* What a guest page-table walk found, level by level. */
struct guest_walker {
	int level;
	unsigned max_level;
	gfn_t table_gfn[PT_MAX_FULL_LEVELS];
	pt_element_t ptes[PT_MAX_FULL_LEVELS];
	gpa_t pte_gpa[PT_MAX_FULL_LEVELS];
	unsigned int pt_access[PT_MAX_FULL_LEVELS];
	unsigned int pte_access;
	gfn_t gfn;
	struct x86_exception fault;
};

static inline bool FNAME(is_present_gpte)(unsigned long pte)
{
	return pte & PT_PRESENT_MASK;
}

static bool FNAME(is_rsvd_bits_set)(struct kvm_mmu *mmu, u64 gpte, int level)
{
	return __is_rsvd_bits_set(&mmu->guest_rsvd_check, gpte, level);
}

static int FNAME(walk_addr_generic)(struct guest_walker *walker, struct kvm_vcpu *vcpu,
				    struct kvm_mmu *mmu, gpa_t addr, u64 access)
{
	pt_element_t pte;
	int level = mmu->cpu_role.base.level;

	walker->level = level;
	do {
		/* read the guest entry for this level and remember where it lives */
		walker->table_gfn[walker->level - 1] = gpte_to_gfn(pte);
		if (unlikely(!FNAME(is_present_gpte)(pte)))
			goto error;
		if (unlikely(FNAME(is_rsvd_bits_set)(mmu, pte, walker->level)))
			goto error;
		--walker->level;
	} while (!is_last_gpte(mmu, walker->level, pte));

	walker->gfn = gpte_to_gfn_lvl(pte, walker->level);
	return 1;
error:
	walker->fault.vector = PF_VECTOR;
	return 0;
}

static int FNAME(walk_addr)(struct guest_walker *walker, struct kvm_vcpu *vcpu, gpa_t addr,
			    u64 access)
{
	return FNAME(walk_addr_generic)(walker, vcpu, vcpu->arch.mmu, addr, access);
}

/*
 * Build the shadow tables for one guest translation: every guest table on the walk gets (or
 * reuses) a shadow page keyed by its gfn, then the leaf SPTE is set.
 */
static int FNAME(fetch)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
			struct guest_walker *gw)
{
	struct kvm_mmu_page *sp = NULL;
	struct kvm_shadow_walk_iterator it;
	unsigned int direct_access = gw->pte_access;

	for_each_shadow_entry(vcpu, fault->addr, it) {
		if (it.level == gw->level)
			break;
		sp = kvm_mmu_get_child_sp(vcpu, it.sptep, gw->table_gfn[it.level - 2], false,
					  gw->pt_access[it.level - 2]);
		/* the guest may have changed the table while we were not holding mmu_lock */
		if (FNAME(gpte_changed)(vcpu, gw, it.level - 1))
			goto out_gpte_changed;
		if (sp)
			link_shadow_page(vcpu, it.sptep, sp);
	}
	return mmu_set_spte(vcpu, fault->slot, it.sptep, direct_access, fault->gfn, fault->pfn, fault);

out_gpte_changed:
	return RET_PF_RETRY;
}

static int FNAME(page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct guest_walker walker;
	int r;

	r = FNAME(walk_addr)(&walker, vcpu, fault->addr, fault->error_code & PFERR_FETCH_MASK);
	if (!r) {
		kvm_inject_emulated_page_fault(vcpu, &walker.fault);
		return RET_PF_RETRY;
	}
	fault->gfn = walker.gfn;
	fault->slot = kvm_vcpu_gfn_to_memslot(vcpu, fault->gfn);

	r = mmu_topup_memory_caches(vcpu, true);
	if (r)
		return r;
	r = kvm_mmu_faultin_pfn(vcpu, fault, walker.pte_access);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);
	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;
	r = make_mmu_pages_available(vcpu);
	if (r)
		goto out_unlock;
	r = FNAME(fetch)(vcpu, fault, &walker);
out_unlock:
	kvm_mmu_finish_page_fault(vcpu, fault, r);
	write_unlock(&vcpu->kvm->mmu_lock);
	return r;
}

static gpa_t FNAME(gva_to_gpa)(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu, gpa_t addr,
			       u64 access, struct x86_exception *exception)
{
	struct guest_walker walker;

	if (FNAME(walk_addr_generic)(&walker, vcpu, mmu, addr, access))
		return gfn_to_gpa(walker.gfn) | (addr & ~PAGE_MASK);
	*exception = walker.fault;
	return INVALID_GPA;
}

/* Resync one SPTE of an unsync page with the guest entry it shadows. */
static int FNAME(sync_spte)(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i)
{
	pt_element_t gpte;
	gfn_t gfn;

	if (kvm_vcpu_read_guest_atomic(vcpu, sp->gfn + i * sizeof(pt_element_t), &gpte, sizeof(gpte)))
		return -1;
	if (FNAME(prefetch_invalid_gpte)(vcpu, sp, &sp->spt[i], gpte))
		return 1;
	gfn = gpte_to_gfn(gpte);
	kvm_mmu_page_set_translation(sp, i, gfn, FNAME(gpte_access)(gpte));
	return mmu_spte_update(&sp->spt[i], make_spte_from_gpte(gpte)) ? 1 : 0;
}

#undef pt_element_t
#undef guest_walker
#undef FNAME
#undef PT_LEVEL_BITS
#undef PT_MAX_FULL_LEVELS
