/**
 * A set of serial numbers' octets with no JS string or Buffer per member (issue 17.5): the
 * duplicate check of a CRL of a million entries spent most of its lint time on a Set of a
 * million strings. Members are copied into one byte arena and found by an open-addressing
 * table of their FNV-1a hashes; equal hashes are told apart by the octets.
 */
export class SerialSet {
  #arena = new Uint8Array(1 << 16);
  #used = 0;
  /** Where each member starts in the arena (it ends where the next starts). */
  #starts = new Int32Array(1 << 12);
  #size = 0;
  /** Per slot its hash and member index + 1 (0 when free), side by side: one cache line per probe. Kept at most half full. */
  #slots = new Int32Array(2 << 13);

  get size(): number {
    return this.#size;
  }

  /** Adds the octets bytes[start, end); false when they were already a member. */
  add(bytes: Uint8Array, start: number, end: number): boolean {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    const slots = this.#slots;
    const mask = (slots.length >> 1) - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const m = slots[2 * s + 1]! - 1;
      if (m < 0) {
        this.#insert(bytes, start, end, h, s);
        return true;
      }
      if (slots[2 * s] === h && this.#equals(m, bytes, start, end)) return false;
    }
  }

  #equals(m: number, bytes: Uint8Array, start: number, end: number): boolean {
    const from = this.#starts[m]!;
    const to = m + 1 < this.#size ? this.#starts[m + 1]! : this.#used;
    if (to - from !== end - start) return false;
    for (let i = 0; i < to - from; i++) if (this.#arena[from + i] !== bytes[start + i]) return false;
    return true;
  }

  #insert(bytes: Uint8Array, start: number, end: number, h: number, slot: number): void {
    const n = end - start;
    if (this.#used + n > this.#arena.length) this.#arena = grown(this.#arena, this.#used + n);
    this.#arena.set(bytes.subarray(start, end), this.#used);
    if (this.#size === this.#starts.length) this.#starts = grown(this.#starts, this.#size + 1);
    this.#starts[this.#size] = this.#used;
    this.#used += n;
    this.#slots[2 * slot] = h;
    this.#slots[2 * slot + 1] = ++this.#size;
    if (this.#size * 4 > this.#slots.length) this.#rehash();
  }

  #rehash(): void {
    const old = this.#slots;
    const slots = new Int32Array(old.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      let s = old[i]! & mask;
      while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
      slots[2 * s] = old[i]!;
      slots[2 * s + 1] = old[i + 1]!;
    }
    this.#slots = slots;
  }
}

/** A copy of `a` with room for at least `n` elements (twice its length, or more). */
function grown<T extends Uint8Array | Int32Array>(a: T, n: number): T {
  const next = new (a.constructor as new (length: number) => T)(Math.max(a.length * 2, n));
  next.set(a);
  return next;
}
