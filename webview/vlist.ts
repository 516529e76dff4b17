/**
 * A virtualised, keyboard-navigable list of fixed-height rows: only the rows in view are in the DOM.
 * The model is a list of segments so that a range of 100,000 rows costs nothing until it is scrolled to.
 */
import { h } from './dom';

export interface Segment<R> {
  length: number;
  get(i: number): R;
}

export interface VListOptions<R> {
  id: string;
  label: string;
  role: 'tree' | 'list';
  rowHeight?: number;
  /** Viewport height in px for long lists. */
  maxHeight?: number;
  render(row: R, index: number): HTMLElement;
  /** Tree rows: level (1-based) and expansion state for aria attributes. */
  aria?(row: R): { level?: number; expanded?: boolean; setsize?: number; posinset?: number };
  onToggle?(row: R, expand: boolean | null): void;
  onActivate?(row: R): void;
  onScroll?(top: number): void;
  /** The active row changed (keyboard, click, reveal, or a new model). */
  onActive?(row: R | undefined): void;
}

export class VList<R> {
  readonly el: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rowH: number;
  private segs: Segment<R>[] = [];
  private starts: number[] = [];
  private total = 0;
  private active = 0;
  private frame = 0;
  private lastActive: R | undefined;
  /** Own copies of scroll position and viewport height: reading them from the DOM would force a layout. */
  private top = 0;
  private viewH = 0;
  private readonly maxHeight: number;

  constructor(private readonly o: VListOptions<R>) {
    this.rowH = o.rowHeight ?? 22;
    this.maxHeight = o.maxHeight ?? 360;
    this.spacer = h('div', { class: 'vlist-spacer' });
    this.el = h('div', {
      class: 'vlist',
      id: o.id,
      role: o.role,
      tabindex: 0,
      'aria-label': o.label,
    });
    this.el.appendChild(this.spacer);
    this.el.addEventListener('scroll', () => {
      this.top = this.el.scrollTop;
      if (!this.frame) this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.paint();
        this.o.onScroll?.(this.el.scrollTop);
      });
    });
    this.el.addEventListener('keydown', (e) => this.key(e));
    this.el.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('[data-row]');
      if (!row) return;
      this.active = Number(row.dataset.row);
      const r = this.rowAt(this.active);
      if (r !== undefined && !(e.target as HTMLElement).closest('button, a, input')) this.o.onToggle?.(r, null);
      this.paint();
    });
  }

  get length(): number {
    return this.total;
  }

  rowAt(i: number): R | undefined {
    if (i < 0 || i >= this.total) return undefined;
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return this.segs[lo].get(i - this.starts[lo]);
  }

  setModel(segs: Segment<R>[]): void {
    this.segs = segs.filter((s) => s.length > 0);
    this.starts = [];
    let n = 0;
    for (const s of this.segs) {
      this.starts.push(n);
      n += s.length;
    }
    this.total = n;
    this.spacer.style.height = `${n * this.rowH}px`;
    // Short lists shrink to their content; long ones scroll inside a fixed viewport.
    this.viewH = Math.min(this.maxHeight, Math.max(1, n) * this.rowH + 2);
    this.el.style.height = `${this.viewH}px`;
    this.top = Math.min(this.top, Math.max(0, n * this.rowH - this.viewH + 2));
    if (this.active >= n) this.active = Math.max(0, n - 1);
    this.paint();
  }

  scrollTo(top: number): void {
    this.el.scrollTop = top;
    this.top = top;
    this.paint();
  }

  /** Make row `i` the active row and scroll it into view. */
  reveal(i: number, focus = false): void {
    if (i < 0 || i >= this.total) return;
    this.active = i;
    const top = i * this.rowH;
    const view = this.viewH - 2;
    if (top < this.top) this.scrollTo(top);
    else if (top + this.rowH > this.top + view) this.scrollTo(top + this.rowH - view);
    this.paint();
    if (focus) this.el.focus();
  }

  findIndex(pred: (r: R) => boolean, limit = 200_000): number {
    for (let i = 0; i < Math.min(this.total, limit); i++) {
      const r = this.rowAt(i);
      if (r !== undefined && pred(r)) return i;
    }
    return -1;
  }

  /** Render the rows in view (plus a small margin). */
  paint(): void {
    const view = this.viewH;
    const first = Math.max(0, Math.floor(this.top / this.rowH) - 4);
    const last = Math.min(this.total, Math.ceil((this.top + view) / this.rowH) + 4);
    const frag = document.createDocumentFragment();
    frag.appendChild(this.spacer);
    let activeId: string | null = null;
    for (let i = first; i < last; i++) {
      const r = this.rowAt(i) as R;
      const el = this.o.render(r, i);
      el.dataset.row = String(i);
      el.id = `${this.o.id}-r${i}`;
      el.classList.add('vrow');
      el.style.transform = `translateY(${i * this.rowH}px)`;
      el.setAttribute('role', this.o.role === 'tree' ? 'treeitem' : 'listitem');
      const a = this.o.aria?.(r);
      if (a?.level !== undefined) el.setAttribute('aria-level', String(a.level));
      if (a?.expanded !== undefined) el.setAttribute('aria-expanded', String(a.expanded));
      if (i === this.active) {
        el.classList.add('active');
        el.setAttribute('aria-selected', 'true');
        activeId = el.id;
      }
      frag.appendChild(el);
    }
    this.el.replaceChildren(frag);
    if (activeId) this.el.setAttribute('aria-activedescendant', activeId);
    else this.el.removeAttribute('aria-activedescendant');
    const row = this.rowAt(this.active);
    if (row !== this.lastActive) {
      this.lastActive = row;
      this.o.onActive?.(row);
    }
  }

  get activeRow(): R | undefined {
    return this.rowAt(this.active);
  }

  private key(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewH / this.rowH) - 1);
    const r = this.rowAt(this.active);
    switch (e.key) {
      case 'ArrowDown':
        this.reveal(Math.min(this.total - 1, this.active + 1));
        break;
      case 'ArrowUp':
        this.reveal(Math.max(0, this.active - 1));
        break;
      case 'PageDown':
        this.reveal(Math.min(this.total - 1, this.active + page));
        break;
      case 'PageUp':
        this.reveal(Math.max(0, this.active - page));
        break;
      case 'Home':
        this.reveal(0);
        break;
      case 'End':
        this.reveal(this.total - 1);
        break;
      case 'ArrowRight':
        if (r !== undefined) this.o.onToggle?.(r, true);
        break;
      case 'ArrowLeft':
        if (r !== undefined) this.o.onToggle?.(r, false);
        break;
      case 'Enter':
      case ' ':
        if (r !== undefined) {
          if (this.o.onActivate) this.o.onActivate(r);
          else this.o.onToggle?.(r, null);
        }
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}
