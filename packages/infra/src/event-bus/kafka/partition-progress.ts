/**
 * What one partition has in hand: the offsets delivered to this host, in order, and which
 * of them are finished. The committed offset is the contiguous watermark — the first offset
 * not yet finished — never the newest finished one, so a crash can redeliver but never skip.
 * Offsets can have gaps (transaction markers, compaction); the watermark only walks over
 * offsets that were actually delivered.
 */
export interface TrackedOffset {
  readonly offset: bigint;
  done: boolean;
}

export class PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  #entries: TrackedOffset[] = [];
  #head = 0;
  /** Highest offset ever taken in; a refetch at or below it is a duplicate of work in hand. */
  #highest = -1n;
  /** Next offset to read once everything taken in so far is finished. */
  #doneUpTo: bigint | undefined;
  #first: bigint | undefined;
  /** Offset last committed, if any. */
  committed: bigint | undefined;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  /** The first offset taken in since this host got the partition, if any. */
  get firstOffset(): bigint | undefined {
    return this.#first;
  }

  /** Whether `offset` is new to this partition (not a refetch of work in hand). */
  isNew(offset: bigint): boolean {
    return offset > this.#highest;
  }

  track(offset: bigint): TrackedOffset {
    const entry: TrackedOffset = { offset, done: false };
    this.#entries.push(entry);
    this.#highest = offset;
    this.#first ??= offset;
    return entry;
  }

  /** Number of offsets taken in and not finished. */
  get unfinished(): number {
    let n = 0;
    for (let i = this.#head; i < this.#entries.length; i += 1) if (!(this.#entries[i] as TrackedOffset).done) n += 1;
    return n;
  }

  /** The offset to commit now, or undefined when nothing new is finished. */
  watermark(): bigint | undefined {
    while (this.#head < this.#entries.length && (this.#entries[this.#head] as TrackedOffset).done) {
      this.#doneUpTo = (this.#entries[this.#head] as TrackedOffset).offset + 1n;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return this.#doneUpTo;
  }
}
