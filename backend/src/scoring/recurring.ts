// A cache for values derived from strings that recur across deals (labels, reasons, rep ids),
// keyed by group (e.g. the feature a label belongs to). A group whose keys turn out not to
// recur (an amount label is new for nearly every deal) stops being cached: when its cache is
// full with fewer hits than entries. Otherwise a full cache starts afresh, so the keys of a
// retired model age out.
interface Group<V> {
  values: Map<string, V> | null;
  hits: number;
}

export class RecurringValues<V> {
  private readonly groups = new Map<string, Group<V>>();

  constructor(private readonly limit: number) {}

  get(group: string, key: string): V | undefined {
    const g = this.groups.get(group);
    const value = g?.values?.get(key);
    if (value !== undefined) (g as Group<V>).hits++;
    return value;
  }

  /** Keeps a value, unless its group was found not to recur. */
  set(group: string, key: string, value: V): void {
    let g = this.groups.get(group);
    if (g === undefined) {
      if (this.groups.size >= 1_000) this.groups.clear(); // a guard: groups are a fixed few
      g = { values: new Map(), hits: 0 };
      this.groups.set(group, g);
    }
    if (g.values === null) return;
    if (g.values.size >= this.limit) {
      if (g.hits < g.values.size) {
        g.values = null;
        return;
      }
      g.values.clear();
      g.hits = 0;
    }
    g.values.set(key, value);
  }

  /** Whether a group is still cached (false once its keys were found not to recur). */
  caching(group: string): boolean {
    return this.groups.get(group)?.values !== null;
  }
}
