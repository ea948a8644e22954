// Seeded pseudo-random numbers (mulberry32): deterministic, fast, no global state.

export type Random = () => number;

/** A uniform [0, 1) generator from a 32-bit seed. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller; one value per call keeps it simple). */
export function normal(rand: Random): number {
  const u = 1 - rand(); // (0, 1]: log is finite
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
